/* normalize_variant.c — British and American spellings as one word.
 *
 * Responsible for the word tables and the -ise rule behind
 * normalize_variant(); not for when it is applied (stem.c folds every word
 * before it is stemmed, so rules and items meet whichever spelling either
 * uses). Only spellings are folded, never words: "lorry" stays "lorry".
 *
 * Three kinds of entries:
 *   - a word, as is ("programme" -> "program", "travelled" -> "traveled");
 *   - a root followed by a common ending ("defence", "defences",
 *     "defenceless"; "colour", "coloured", "colourful", "favourite");
 *   - a root ending in -re/-se whose endings change with it
 *     ("manoeuvre", "manoeuvred", "manoeuvring" -> "maneuver", "maneuvered",
 *     "maneuvering"; "practise", "practised" -> "practice", "practiced").
 * Then -ise, -ised, -ising, -isation, -iser … become -ize … unless the word
 * is one of the -ise words that have no -ize form (exercise, advise,
 * promise, surprise, enterprise …). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"

enum variant_kind {
	VARIANT_WORD,		/* the whole word */
	VARIANT_ROOT,		/* root + an ending of root_endings[] */
	VARIANT_RE,		/* root + an ending of re_endings[], mapped */
	VARIANT_SE,		/* root + e, es, ed, ing */
};

struct variant {
	const char		*british;
	const char		*american;
	enum variant_kind	 kind;
};

/* NOTE: sorted by british (strcmp order); test_normalize checks it. */
static const struct variant variants[] = {
	{ "aeroplane", "airplane", VARIANT_ROOT },
	{ "ageing", "aging", VARIANT_WORD },
	{ "aluminium", "aluminum", VARIANT_WORD },
	{ "analogu", "analog", VARIANT_RE },
	{ "analys", "analyz", VARIANT_SE },
	{ "ardour", "ardor", VARIANT_ROOT },
	{ "armour", "armor", VARIANT_ROOT },
	{ "behaviour", "behavior", VARIANT_ROOT },
	{ "calibr", "caliber", VARIANT_RE },
	{ "cancelled", "canceled", VARIANT_WORD },
	{ "cancelling", "canceling", VARIANT_WORD },
	{ "candour", "candor", VARIANT_ROOT },
	{ "catalogu", "catalog", VARIANT_RE },
	{ "centimetr", "centimeter", VARIANT_RE },
	{ "centr", "center", VARIANT_RE },
	{ "channelled", "channeled", VARIANT_WORD },
	{ "channelling", "channeling", VARIANT_WORD },
	{ "clamour", "clamor", VARIANT_ROOT },
	{ "colour", "color", VARIANT_ROOT },
	{ "counselled", "counseled", VARIANT_WORD },
	{ "counselling", "counseling", VARIANT_WORD },
	{ "counsellor", "counselor", VARIANT_ROOT },
	{ "defence", "defense", VARIANT_ROOT },
	{ "demeanour", "demeanor", VARIANT_ROOT },
	{ "dialled", "dialed", VARIANT_WORD },
	{ "dialling", "dialing", VARIANT_WORD },
	{ "endeavour", "endeavor", VARIANT_ROOT },
	{ "enrol", "enroll", VARIANT_WORD },
	{ "enrolment", "enrollment", VARIANT_ROOT },
	{ "enrols", "enrolls", VARIANT_WORD },
	{ "equalled", "equaled", VARIANT_WORD },
	{ "favour", "favor", VARIANT_ROOT },
	{ "fervour", "fervor", VARIANT_ROOT },
	{ "fibr", "fiber", VARIANT_RE },
	{ "flavour", "flavor", VARIANT_ROOT },
	{ "fuelled", "fueled", VARIANT_WORD },
	{ "fuelling", "fueling", VARIANT_WORD },
	{ "fulfil", "fulfill", VARIANT_WORD },
	{ "fulfilment", "fulfillment", VARIANT_ROOT },
	{ "fulfils", "fulfills", VARIANT_WORD },
	{ "gaol", "jail", VARIANT_ROOT },
	{ "grey", "gray", VARIANT_ROOT },
	{ "harbour", "harbor", VARIANT_ROOT },
	{ "honour", "honor", VARIANT_ROOT },
	{ "humour", "humor", VARIANT_ROOT },
	{ "instalment", "installment", VARIANT_ROOT },
	{ "jewellery", "jewelry", VARIANT_WORD },
	{ "judgement", "judgment", VARIANT_ROOT },
	{ "kilometr", "kilometer", VARIANT_RE },
	{ "labelled", "labeled", VARIANT_WORD },
	{ "labelling", "labeling", VARIANT_WORD },
	{ "labour", "labor", VARIANT_ROOT },
	{ "levelled", "leveled", VARIANT_WORD },
	{ "levelling", "leveling", VARIANT_WORD },
	{ "licence", "license", VARIANT_ROOT },
	{ "litr", "liter", VARIANT_RE },
	{ "lustr", "luster", VARIANT_RE },
	{ "manoeuvr", "maneuver", VARIANT_RE },
	{ "marshalled", "marshaled", VARIANT_WORD },
	{ "marvelled", "marveled", VARIANT_WORD },
	{ "marvellous", "marvelous", VARIANT_WORD },
	{ "meagr", "meager", VARIANT_RE },
	{ "metr", "meter", VARIANT_RE },
	{ "millimetr", "millimeter", VARIANT_RE },
	{ "modelled", "modeled", VARIANT_WORD },
	{ "modelling", "modeling", VARIANT_WORD },
	{ "mould", "mold", VARIANT_ROOT },
	{ "moustache", "mustache", VARIANT_ROOT },
	{ "neighbour", "neighbor", VARIANT_ROOT },
	{ "odour", "odor", VARIANT_ROOT },
	{ "offence", "offense", VARIANT_ROOT },
	{ "paralys", "paralyz", VARIANT_SE },
	{ "parlour", "parlor", VARIANT_ROOT },
	{ "plough", "plow", VARIANT_ROOT },
	{ "practis", "practic", VARIANT_SE },
	{ "pretence", "pretense", VARIANT_ROOT },
	{ "programme", "program", VARIANT_WORD },
	{ "programmes", "programs", VARIANT_WORD },
	{ "pyjama", "pajama", VARIANT_ROOT },
	{ "quarrelled", "quarreled", VARIANT_WORD },
	{ "rigour", "rigor", VARIANT_ROOT },
	{ "rivalled", "rivaled", VARIANT_WORD },
	{ "rumour", "rumor", VARIANT_ROOT },
	{ "sabr", "saber", VARIANT_RE },
	{ "saviour", "savior", VARIANT_ROOT },
	{ "savour", "savor", VARIANT_ROOT },
	{ "sceptic", "skeptic", VARIANT_ROOT },
	{ "signalled", "signaled", VARIANT_WORD },
	{ "signalling", "signaling", VARIANT_WORD },
	{ "skilful", "skillful", VARIANT_ROOT },
	{ "smoulder", "smolder", VARIANT_ROOT },
	{ "sombr", "somber", VARIANT_RE },
	{ "spectr", "specter", VARIANT_RE },
	{ "splendour", "splendor", VARIANT_ROOT },
	{ "theatr", "theater", VARIANT_RE },
	{ "totalled", "totaled", VARIANT_WORD },
	{ "travelled", "traveled", VARIANT_WORD },
	{ "traveller", "traveler", VARIANT_ROOT },
	{ "travelling", "traveling", VARIANT_WORD },
	{ "tumour", "tumor", VARIANT_ROOT },
	{ "tunnelled", "tunneled", VARIANT_WORD },
	{ "tunnelling", "tunneling", VARIANT_WORD },
	{ "valour", "valor", VARIANT_ROOT },
	{ "vapour", "vapor", VARIANT_ROOT },
	{ "vigour", "vigor", VARIANT_ROOT },
	{ "wilful", "willful", VARIANT_ROOT },
};

/* Endings after a VARIANT_ROOT root, as they are. */
static const char *const root_endings[] = {
	"", "s", "es", "ed", "d", "ing", "er", "ers", "less", "able", "ably",
	"ful", "fully", "ite", "ites", "y", "al", "ally", "hood", "hoods",
	"ist", "ists", "ism", "ly", "ish", "ness",
};

/* Endings after a VARIANT_RE root, British then American. */
static const char *const re_endings[][2] = {
	{ "e", "" }, { "es", "s" }, { "ed", "ed" }, { "ing", "ing" },
	{ "able", "able" },
};

static const char *const se_endings[] = { "e", "es", "ed", "ing" };

/* -ise words with no -ize form, as the -ise word; also every word that
 * ends in -aise, -oise, -uise, -prise, -vise or -wise, and every -ise word
 * of five letters or fewer (rise, wise, noise, raise, arise). */
static const char *const ise_kept[] = {
	"advertise", "chastise", "chemise", "circumcise", "compromise",
	"concise", "demise", "denise", "elise", "eloise", "enfranchise",
	"excise", "exercise", "expertise", "franchise", "imprecise", "incise",
	"louise", "marquise", "merchandise", "moonrise", "mortise", "paradise",
	"precise", "premise", "promise", "remise", "sunrise", "surmise",
	"treatise", "uprise", "valise", "cerise", "disfranchise",
};

/* -ise endings and their -ize forms. */
static const char *const ise_endings[][2] = {
	{ "ise", "ize" }, { "ises", "izes" }, { "ised", "ized" },
	{ "ising", "izing" }, { "isation", "ization" },
	{ "isations", "izations" }, { "iser", "izer" }, { "isers", "izers" },
	{ "isable", "izable" },
};

static bool
ends_with(const char *w, size_t len, const char *end)
{
	size_t n = strlen(end);

	return len >= n && memcmp(w + len - n, end, n) == 0;
}

static size_t
put(char *out, size_t size, const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen + blen + 1 > size)
		return 0;
	memcpy(out, a, alen);
	memcpy(out + alen, b, blen);
	out[alen + blen] = '\0';
	return alen + blen;
}

/* The -ise rule. */
static size_t
fold_ise(const char *w, size_t len, char *out, size_t size)
{
	char	 base[64];
	size_t	 i, k, n, blen;

	for (i = 0; i < sizeof(ise_endings) / sizeof(ise_endings[0]); i++) {
		if (!ends_with(w, len, ise_endings[i][0]))
			continue;
		n = strlen(ise_endings[i][0]);
		blen = len - n + 3;		/* the -ise form */
		if (blen <= 5 || blen >= sizeof(base))
			return 0;
		memcpy(base, w, len - n);
		memcpy(base + len - n, "ise", 4);
		if (ends_with(base, blen, "aise") || ends_with(base, blen, "oise") ||
		    ends_with(base, blen, "uise") || ends_with(base, blen, "prise") ||
		    ends_with(base, blen, "vise") || ends_with(base, blen, "wise"))
			return 0;
		for (k = 0; k < sizeof(ise_kept) / sizeof(ise_kept[0]); k++)
			if (strcmp(base, ise_kept[k]) == 0)
				return 0;
		return put(out, size, w, len - n, ise_endings[i][1]);
	}
	return 0;
}

static int
variant_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct variant *)elem)->british);
}

size_t
normalize_variant(const char *w, size_t len, char *out, size_t size)
{
	const struct variant	*v;
	char			 word[64];
	size_t			 lo, hi, i, rlen;

	if (len < 4 || len >= sizeof(word))
		return 0;
	memcpy(word, w, len);
	word[len] = '\0';
	/* Roots that begin the word sort at or before it: find the first
	 * entry after it, then look back over the entries of its letter. */
	lo = 0;
	hi = sizeof(variants) / sizeof(variants[0]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (variant_cmp(word, &variants[mid]) >= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i-- > 0 && variants[i].british[0] == word[0];) {
		v = &variants[i];
		rlen = strlen(v->british);
		if (rlen > len || memcmp(word, v->british, rlen) != 0)
			continue;
		switch (v->kind) {
		case VARIANT_WORD:
			if (rlen == len)
				return put(out, size, v->american,
				    strlen(v->american), "");
			break;
		case VARIANT_ROOT:
			for (size_t k = 0; k < sizeof(root_endings) /
			    sizeof(root_endings[0]); k++)
				if (strcmp(word + rlen, root_endings[k]) == 0)
					return put(out, size, v->american,
					    strlen(v->american), word + rlen);
			break;
		case VARIANT_RE:
			for (size_t k = 0; k < sizeof(re_endings) /
			    sizeof(re_endings[0]); k++)
				if (strcmp(word + rlen, re_endings[k][0]) == 0)
					return put(out, size, v->american,
					    strlen(v->american),
					    re_endings[k][1]);
			break;
		case VARIANT_SE:
			for (size_t k = 0; k < sizeof(se_endings) /
			    sizeof(se_endings[0]); k++)
				if (strcmp(word + rlen, se_endings[k]) == 0)
					return put(out, size, v->american,
					    strlen(v->american), word + rlen);
			break;
		}
	}
	return fold_ise(word, len, out, size);
}

bool
normalize_variant_table_sorted(void)
{
	for (size_t i = 1; i < sizeof(variants) / sizeof(variants[0]); i++)
		if (strcmp(variants[i - 1].british, variants[i].british) >= 0)
			return false;
	return true;
}
