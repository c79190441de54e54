/* xml_compat.h — what differs between the libxml2 releases feedwatch builds
 * with: Debian 12's 2.9.14 and current ones (2.12 made the structured
 * error callback take a const error; 2.14 deprecated registering a
 * converter, and removed nanoftp.h, which nothing here includes).
 *
 * The shim's test: the parser files compile with -Werror against both
 * (docs/hacking.md, "libxml2 versions"). */
#pragma once

#include <libxml/xmlversion.h>

/* xmlStructuredErrorFunc's error: "xmlErrorPtr" until 2.11, "const
 * xmlError *" from 2.12 on. Declare a callback's parameter as
 * FW_XML_ERROR_CONST xmlError *. */
#if LIBXML_VERSION >= 21200
#define FW_XML_ERROR_CONST const
#else
#define FW_XML_ERROR_CONST
#endif

/* A converter of our own: registered process-wide with
 * xmlNewCharEncodingHandler() until 2.13; from 2.14 on (where that is
 * deprecated) made per document with xmlCharEncNewCustomHandler(). */
#if LIBXML_VERSION >= 21400
#define FW_XML_CUSTOM_HANDLER 1
#else
#define FW_XML_CUSTOM_HANDLER 0
#endif

/* htmlEntityLookup() is deprecated from 2.14 on (it knows HTML 4's
 * entities only), with no replacement; it is still there, and HTML 4's
 * entities are what feeds use. Wrap a call in these. */
#define FW_XML_ALLOW_DEPRECATED_BEGIN					\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Wdeprecated-declarations\"")
#define FW_XML_ALLOW_DEPRECATED_END					\
	_Pragma("GCC diagnostic pop")
