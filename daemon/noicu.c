/* noicu.c — linked into the executable only when libxml2 is linked
 * statically: libxml2's last-resort character converters, ICU's, replaced
 * by ones that always report the encoding as unsupported.
 *
 * Why: libxml2 looks for a converter in its built-in set first, then in
 * iconv, and asks ICU only for a name neither knows; parse_xml.c maps every
 * charset label of the WHATWG Encoding Standard to a name glibc's iconv
 * knows before it asks, so ICU is never reached for a real feed. Linking
 * ICU statically would add 30 MB (its data) and 0.2 ms to every start of
 * `feedwatch parse`. A label that neither iconv nor the alias table knows
 * gets libxml2's "unsupported encoding" error, the same as a build without
 * ICU. The names come from ICU's own header, which appends the version
 * suffix (ucnv_open_72 on Debian 12), so the replacements always match
 * the references in libxml2.a. */
#include <unicode/ucnv.h>
#include <unicode/ucnv_err.h>

UConverter *
ucnv_open(const char *converter_name, UErrorCode *err)
{
	(void)converter_name;
	*err = U_FILE_ACCESS_ERROR;
	return NULL;
}

void
ucnv_close(UConverter *converter)
{
	(void)converter;
}

void
ucnv_setToUCallBack(UConverter *converter, UConverterToUCallback new_action,
    const void *new_context, UConverterToUCallback *old_action,
    const void **old_context, UErrorCode *err)
{
	(void)converter; (void)new_action; (void)new_context;
	(void)old_action; (void)old_context;
	*err = U_UNSUPPORTED_ERROR;
}

void
ucnv_setFromUCallBack(UConverter *converter,
    UConverterFromUCallback new_action, const void *new_context,
    UConverterFromUCallback *old_action, const void **old_context,
    UErrorCode *err)
{
	(void)converter; (void)new_action; (void)new_context;
	(void)old_action; (void)old_context;
	*err = U_UNSUPPORTED_ERROR;
}

void
ucnv_convertEx(UConverter *target_cnv, UConverter *source_cnv, char **target,
    const char *target_limit, const char **source, const char *source_limit,
    UChar *pivot_start, UChar **pivot_source, UChar **pivot_target,
    const UChar *pivot_limit, UBool reset, UBool flush, UErrorCode *err)
{
	(void)target_cnv; (void)source_cnv; (void)target; (void)target_limit;
	(void)source; (void)source_limit; (void)pivot_start;
	(void)pivot_source; (void)pivot_target; (void)pivot_limit;
	(void)reset; (void)flush;
	*err = U_UNSUPPORTED_ERROR;
}

void
UCNV_TO_U_CALLBACK_STOP(const void *context, UConverterToUnicodeArgs *args,
    const char *code_units, int32_t length, UConverterCallbackReason reason,
    UErrorCode *err)
{
	(void)context; (void)args; (void)code_units; (void)length;
	(void)reason; (void)err;
}

void
UCNV_FROM_U_CALLBACK_STOP(const void *context,
    UConverterFromUnicodeArgs *args, const UChar *code_units, int32_t length,
    UChar32 code_point, UConverterCallbackReason reason, UErrorCode *err)
{
	(void)context; (void)args; (void)code_units; (void)length;
	(void)code_point; (void)reason; (void)err;
}
