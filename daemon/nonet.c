/* nonet.c — linked wherever libxml2 is linked statically: libxml2's own HTTP
 * and FTP clients, which its I/O layer refers to, replaced by ones that
 * connect nowhere.
 *
 * Why: the parser must never touch the network (XML_PARSE_NONET and an
 * external entity loader that refuses everything already see to it), so
 * the code that could is better not linked at all. It also keeps glibc's
 * name resolver (getaddrinfo, gethostbyname: NSS modules loaded at run
 * time) out of the statically linked executable, where it would work only
 * with the libc it was linked with. Only these functions are referenced
 * from outside nanohttp.o and nanoftp.o (xmlIO.o's default input
 * callbacks), so with them defined here the linker never pulls those two
 * objects from libxml2.a. Their prototypes come from libxml2's headers, so
 * a change there fails the build rather than the program. */
#include <stddef.h>

#include <libxml/nanoftp.h>
#include <libxml/nanohttp.h>

void *
xmlNanoHTTPOpen(const char *url, char **content_type)
{
	(void)url;
	if (content_type != NULL)
		*content_type = NULL;
	return NULL;
}

void *
xmlNanoHTTPMethod(const char *url, const char *method, const char *input,
    char **content_type, const char *headers, int ilen)
{
	(void)url; (void)method; (void)input; (void)headers; (void)ilen;
	if (content_type != NULL)
		*content_type = NULL;
	return NULL;
}

int
xmlNanoHTTPRead(void *ctx, void *dest, int len)
{
	(void)ctx; (void)dest; (void)len;
	return -1;
}

void
xmlNanoHTTPClose(void *ctx)
{
	(void)ctx;
}

int
xmlNanoHTTPReturnCode(void *ctx)
{
	(void)ctx;
	return -1;
}

const char *
xmlNanoHTTPRedir(void *ctx)
{
	(void)ctx;
	return NULL;
}

const char *
xmlNanoHTTPEncoding(void *ctx)
{
	(void)ctx;
	return NULL;
}

const char *
xmlNanoHTTPMimeType(void *ctx)
{
	(void)ctx;
	return NULL;
}

void *
xmlNanoFTPOpen(const char *url)
{
	(void)url;
	return NULL;
}

int
xmlNanoFTPRead(void *ctx, void *dest, int len)
{
	(void)ctx; (void)dest; (void)len;
	return -1;
}

int
xmlNanoFTPClose(void *ctx)
{
	(void)ctx;
	return -1;
}
