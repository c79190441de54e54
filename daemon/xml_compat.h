/* xml_compat.h — what differs between the libxml2 releases feedwatch builds
 * with: Debian 12's 2.9.14 and current ones (2.12 made the structured
 * error callback take a const error; 2.14 removed nanoftp.h, which
 * nothing here includes).
 *
 * The shim's test: the parser files compile with -Werror against both
 * (docs/hacking.md, "libxml2 versions"). */
#pragma once

#include <libxml/xmlversion.h>

/* xmlStructuredErrorFunc's error: "xmlErrorPtr" until 2.11, "const
 * xmlError *" from 2.12 on. Declare a callback's parameter as
 * PX_ERROR_CONST xmlError *. */
#if LIBXML_VERSION >= 21200
#define PX_ERROR_CONST const
#else
#define PX_ERROR_CONST
#endif
