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
int cmd_import_opml(int argc, char **argv);
int cmd_export_opml(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_add(int argc, char **argv);
int cmd_remove(int argc, char **argv);

/* In the feedwatch executable (main.c): replaces the process with
 * feedwatch-core, given the whole argv (argv[1] is one of the verbs above).
 * Returns only on failure, 1, having said why on stderr. */
int run_core(int argc, char **argv);
