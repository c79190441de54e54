/* parse_atom.c — where Atom 1.0 (RFC 4287) and Atom 0.3 keep each field.
 * Data only: the reading is done by parse_xml.c. Atom elements met inside
 * RSS (atom:link, atom:updated) use these rows too. */
#include "parse_internal.h"

const struct px_rule px_atom_rules[] = {
	{ AT_FEED, NS_ATOM, "entry", 0, 0, HOW_ITEM, 0 },
	{ AT_ITEM, NS_ATOM, "entry", 0, 0, HOW_ITEM, 0 },
	/* RFC 4287 4.2.14: "atom:title ... conveys a human-readable title". */
	{ AT_FEED, NS_ATOM, "title", PF_TITLE, 1, HOW_TEXTCONS, 0 },
	{ AT_FEED, NS_ATOM, "link", PF_LINK, 0, HOW_ATOMLINK, 0 },
	{ AT_FEED, NS_ATOM, "subtitle", PF_SUMMARY, 1, HOW_TEXTCONS, 0 },
	{ AT_FEED, NS_ATOM, "tagline", PF_SUMMARY, 2, HOW_TEXTCONS, 0 },
	{ AT_FEED, NS_ATOM, "author", 0, 0, HOW_CONTAINER, AT_AUTHOR },
	{ AT_FEED, NS_ATOM, "contributor", 0, 0, HOW_SKIP, 0 },

	{ AT_ITEM, NS_ATOM, "title", PF_TITLE, 1, HOW_TEXTCONS, 0 },
	/* RFC 4287 4.2.7.2: "If the "rel" attribute is not present, the link
	 * element MUST be interpreted as if the link relation type is
	 * "alternate"." */
	{ AT_ITEM, NS_ATOM, "link", PF_LINK, 0, HOW_ATOMLINK, 0 },
	{ AT_ITEM, NS_ATOM, "id", PF_ID, 1, HOW_PLAIN, 0 },
	{ AT_ITEM, NS_ATOM, "summary", PF_SUMMARY, 1, HOW_TEXTCONS, 0 },
	{ AT_ITEM, NS_ATOM, "content", PF_CONTENT, 1, HOW_TEXTCONS, 0 },
	{ AT_ITEM, NS_ATOM, "published", PF_PUBLISHED, 1, HOW_DATE, 0 },
	{ AT_ITEM, NS_ATOM, "issued", PF_PUBLISHED, 2, HOW_DATE, 0 },
	{ AT_ITEM, NS_ATOM, "created", PF_PUBLISHED, 3, HOW_DATE, 0 },
	{ AT_ITEM, NS_ATOM, "updated", PF_UPDATED, 1, HOW_DATE, 0 },
	{ AT_ITEM, NS_ATOM, "modified", PF_UPDATED, 2, HOW_DATE, 0 },
	{ AT_ITEM, NS_ATOM, "author", 0, 0, HOW_CONTAINER, AT_AUTHOR },
	{ AT_ITEM, NS_ATOM, "contributor", 0, 0, HOW_CONTAINER, AT_CONTRIB },
	{ AT_ITEM, NS_ATOM, "category", PF_CATEGORY, 0, HOW_ATOMCAT, 0 },
	/* RFC 4287 4.2.11: atom:source holds the *original* feed's metadata;
	 * its title and links are not the entry's. */
	{ AT_ITEM, NS_ATOM, "source", 0, 0, HOW_SKIP, 0 },
	{ AT_AUTHOR, NS_ATOM, "name", PF_AUTHOR, 1, HOW_PLAIN, 0 },
	{ AT_AUTHOR, NS_ATOM, "email", PF_AUTHOR, 5, HOW_PLAIN, 0 },
	{ AT_CONTRIB, NS_ATOM, "name", PF_AUTHOR, 6, HOW_PLAIN, 0 },
	{ AT_CONTRIB, NS_ATOM, "email", PF_AUTHOR, 7, HOW_PLAIN, 0 },
};
const size_t px_atom_rules_n = sizeof(px_atom_rules) / sizeof(px_atom_rules[0]);
