/* cmd.h — the command-line verbs. Each takes the argv that starts at its own
 * name (argv[0] = "parse", ...) and returns the process exit code. */
#pragma once

/* The contract: -c defaults to this path. */
#define FW_DEFAULT_CONFIG "/etc/feedwatch/feedwatch.yaml"

int cmd_parse(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_once(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_developments(int argc, char **argv);
int cmd_import_opml(int argc, char **argv);
int cmd_export_opml(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_add(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_migrate_state(int argc, char **argv);

