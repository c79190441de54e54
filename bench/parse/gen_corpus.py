#!/usr/bin/python3
"""Generate the bench/parse corpus: 500 news feeds of realistic size (RSS 2.0
and Atom, HTML descriptions, entities, CDATA, Hangul and Japanese text) and
one 20 MB RSS 2.0 feed. Deterministic (seeded), standard library only.

usage: gen_corpus.py OUTDIR [--feeds 500] [--big-mb 20]
"""
import argparse
import os
import random

WORDS_EN = ("alliance defense cost sharing talks tariff trade minister summit "
            "drill exercise troops forces peninsula security agreement budget "
            "negotiation official said on Tuesday the and of to in for with "
            "a new round Seoul Washington Tokyo Beijing export import steel "
            "semiconductor vehicles duty deal press conference spokesman").split()
WORDS_KO = ("방위비 분담금 협상 한미 동맹 주한미군 연합 훈련 관세 무역 장관 "
            "정상회담 국방부 대통령 발표 미국 한국 일본 중국 수출 반도체 자동차 "
            "협정 브리핑 대변인 기자 회견 오늘 이번 주").split()
WORDS_JA = "防衛 費 負担 交渉 関税 貿易 大臣 首脳 会談 演習 在日 米軍 発表".split()


def sentence(rng, n):
    pool = rng.choice((WORDS_EN, WORDS_EN, WORDS_KO, WORDS_JA))
    sep = "" if pool is WORDS_JA else " "
    return sep.join(rng.choice(pool) for _ in range(n))


def html_body(rng, paras):
    out = []
    for _ in range(paras):
        s = sentence(rng, rng.randint(25, 60))
        words = s.split(" ")
        if len(words) > 6:
            words[2] = "<b>%s</b>" % words[2]
            words[5] = '<a href="/news/%d">%s</a>' % (rng.randint(1, 99999), words[5])
        out.append("<p>%s &amp; %s &#8220;quoted&#8221;</p>" % (" ".join(words),
                                                               sentence(rng, 5)))
    if rng.random() < 0.3:
        out.append('<img src="https://img.example.com/%d.jpg" alt="photo">'
                   % rng.randint(1, 10**6))
    return "\n".join(out)


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def rfc822(rng):
    return "%s, %02d %s 2025 %02d:%02d:%02d +0900" % (
        rng.choice(DAYS), rng.randint(1, 28), rng.choice(MONTHS),
        rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))


def rfc3339(rng):
    return "2025-%02d-%02dT%02d:%02d:%02d+09:00" % (
        rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
        rng.randint(0, 59), rng.randint(0, 59))


def rss_item(rng, i, site):
    title = sentence(rng, rng.randint(6, 14))
    body = html_body(rng, rng.randint(3, 8))
    desc = html_body(rng, 1)
    cats = "".join("<category>%s</category>" % esc(sentence(rng, 1))
                   for _ in range(rng.randint(1, 4)))
    desc_xml = ("<![CDATA[%s]]>" % desc) if rng.random() < 0.6 else esc(desc)
    return ("<item><title>%s</title><link>https://%s/news/%d</link>"
            "<guid isPermaLink=\"false\">%s-%d</guid><pubDate>%s</pubDate>"
            "<dc:creator>%s</dc:creator>%s<description>%s</description>"
            "<content:encoded><![CDATA[%s]]></content:encoded></item>\n" % (
                esc(title), site, i, site, i, rfc822(rng), esc(sentence(rng, 2)),
                cats, desc_xml, body))


def rss_feed(rng, n, site):
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:atom="http://www.w3.org/2005/Atom"><channel>\n'
            '<title>%s News</title><link>https://%s/</link>'
            '<atom:link rel="self" href="https://%s/rss"/>'
            '<description>%s</description><language>ko</language>\n'
            % (site, site, site, esc(sentence(rng, 8))))
    return head + "".join(rss_item(rng, i, site) for i in range(n)) + "</channel></rss>\n"


def atom_feed(rng, n, site):
    out = ['<?xml version="1.0" encoding="utf-8"?>\n'
           '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ja">'
           '<title>%s</title><id>tag:%s,2025:feed</id>'
           '<link href="https://%s/"/><updated>%s</updated>\n'
           % (site, site, site, rfc3339(rng))]
    for i in range(n):
        out.append('<entry><title type="html">%s</title><id>tag:%s,2025:%d</id>'
                   '<link rel="alternate" type="text/html" href="/a/%d"/>'
                   '<published>%s</published><updated>%s</updated>'
                   '<author><name>%s</name></author><category term="%s"/>'
                   '<summary type="html">%s</summary>'
                   '<content type="html">%s</content></entry>\n' % (
                       esc(sentence(rng, 9)), site, i, i, rfc3339(rng),
                       rfc3339(rng), esc(sentence(rng, 2)), esc(sentence(rng, 1)),
                       esc(html_body(rng, 1)), esc(html_body(rng, rng.randint(3, 8)))))
    out.append("</feed>\n")
    return "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--big-mb", type=int, default=20)
    a = ap.parse_args()
    rng = random.Random(20250102)
    os.makedirs(os.path.join(a.outdir, "feeds"), exist_ok=True)
    for k in range(a.feeds):
        site = "news%03d.example.com" % k
        n = rng.randint(15, 60)
        text = atom_feed(rng, n, site) if k % 4 == 3 else rss_feed(rng, n, site)
        with open(os.path.join(a.outdir, "feeds", "feed%03d.xml" % k), "w",
                  encoding="utf-8") as f:
            f.write(text)
    # The big feed: one channel, items until a.big_mb megabytes.
    target = a.big_mb * 1000 * 1000
    parts = [rss_feed(rng, 0, "big.example.com").replace("</channel></rss>\n", "")]
    size = len(parts[0].encode())
    i = 0
    while size < target:
        it = rss_item(rng, i, "big.example.com")
        parts.append(it)
        size += len(it.encode())
        i += 1
    parts.append("</channel></rss>\n")
    with open(os.path.join(a.outdir, "big.xml"), "w", encoding="utf-8") as f:
        f.write("".join(parts))


if __name__ == "__main__":
    main()
