"""WeChat pages read without a crawl: classification, metadata, body cleaning, on the recorded pages."""

from __future__ import annotations

import functools
import gzip
import os
import re
import subprocess
import sys

import pytest
from bs4 import BeautifulSoup
from scrapy.settings import Settings

from crawler.sources import SourceError, wechat, wechat_page
from crawler.sources.wechat_clean import JunkRules, clean_content, junk_rules
from pipelines import clean, markdown
from pipelines.archive import RawSource
from tests.conftest import ROOT, WECHAT, fixture_text
from tests.fidelity import code_blocks, kept_in_order, render_html, visible_text


@functools.cache  # pages are 2–4 MB; tests only read them
def page(name: str, url: str = "") -> wechat.Page:
    return wechat.classify(fixture_text(f"wechat/pages/{name}.html.gz"), url)


def to_markdown(body_html: str) -> str:
    return markdown.html_to_markdown(clean.clean(clean.parse(body_html)))


# --- classification -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("wae_normal_01_xuanyuan_code", wechat.NORMAL),
        ("wae_normal_03_yinji_blockquote_qr", wechat.NORMAL),
        ("wae_normal_c01_jinbang_audio_svg_gif", wechat.NORMAL),
        ("wsg_2018_mpvoice_cjrb", wechat.NORMAL),
        ("wae_share_03_ruanyifeng_js_share_source", wechat.SHARE),
        ("wae_imgshare_01_36kr_type8", wechat.IMAGE_SHARE),
    ],
)
def test_article_pages_are_classified(name: str, kind: str) -> None:
    assert page(name).kind == kind


def test_share_page_names_the_original() -> None:
    shared = page("wae_share_03_ruanyifeng_js_share_source")
    assert shared.share_url == (
        "http://mp.weixin.qq.com/s?__biz=MzIxNzE3MjEwNg%3D%3D&mid=2247483687&idx=1"
        "&sn=8c05352c98185e08f8100947f6f0b621&scene=45#wechat_redirect"
    )
    with pytest.raises(SourceError) as error:
        wechat.article_from_page(shared)
    assert error.value.reason == "share"


@pytest.mark.parametrize(
    ("name", "reason", "detail"),
    [
        ("wae_deleted_01_zh", wechat.DELETED, "该内容已被发布者删除"),
        ("wae_violation_01", wechat.VIOLATION, "此内容因违规无法查看 (由用户投诉并经平台审核，涉嫌过度营销、骚扰用户，查看对应规则)"),
        ("wae_unavailable_01", wechat.UNAVAILABLE, "该内容暂时无法查看"),
        ("wsg_2018_link_expired", wechat.EXPIRED, "链接已过期"),
    ],
)
def test_error_pages_are_named_errors(name: str, reason: str, detail: str) -> None:
    with pytest.raises(SourceError) as error:
        page(name)
    assert (error.value.reason, error.value.detail) == (reason, detail)


def test_anti_crawl_page_by_its_markers() -> None:
    # Hand-made page (no real one is public), built from the markers in the notes.
    html = (WECHAT / "handmade" / "anticrawl.html").read_text(encoding="utf-8")
    with pytest.raises(SourceError) as error:
        wechat.classify(html, "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw")
    assert error.value.reason == wechat.ANTI_CRAWL


def test_anti_crawl_by_the_captcha_redirect_names_the_target() -> None:
    url = "https://mp.weixin.qq.com/mp/wappoc_appmsgcaptcha?poc_token=x&target_url=https%3A%2F%2Fmp.weixin.qq.com%2Fs%2FKDWh"
    with pytest.raises(SourceError) as error:
        wechat.classify("<html><body></body></html>", url)
    assert error.value.reason == wechat.ANTI_CRAWL
    assert "https://mp.weixin.qq.com/s/KDWh" in error.value.detail


def test_anti_crawl_words_inside_an_article_do_not_make_it_one() -> None:
    html = fixture_text("wechat/pages/wae_normal_01_xuanyuan_code.html.gz").replace("大家好，我是轩辕。", "环境异常，完成验证后即可继续访问")
    assert wechat.classify(html).kind == wechat.NORMAL


# --- metadata -----------------------------------------------------------------------------------

METADATA = {
    "wae_normal_01_xuanyuan_code": dict(
        title="AI编程害死我了，给我的抓包软件埋了一个大雷！", account="轩辕的编程宇宙", author="轩辕之风",
        published=1762747210, description="",
        cover="https://mmbiz.qpic.cn/mmbiz_jpg/jXQDbLkGBYUibxsppQznBGWjPRrkD2uemnJeWtibeBmu7tb7adscsbyiaAWAhlp5eAGjqTvuuic9dJ30tQic5pD3ebA/0?wx_fmt=jpeg",
        url="https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw",
        identities=["s_KDWh_qGpFN5Vu1TR9t30Mw", "3226319644_2247504179_1"],
    ),
    "wae_normal_03_yinji_blockquote_qr": dict(
        title="前端播客周刊 #026 - Chrome Speculation Rules 加速网站性能", account="印记中文", author="印记中文团队",
        published=1762834143,
        description="本期看点：Speculation Rules API 如何加速加载性能、Colorpeek 2 带来的 CSS 设计新范式、React Compiler 与 Cursor 的落地经验，以及 AI 工具链对前端团队协作与设计交付的实际影响。",
        cover="https://mmbiz.qpic.cn/sz_mmbiz_jpg/INNfEriciaG5fEx2QN8tXIUMiapukHn6CG1O3xsehFOLvicmJvkApY4aVtSSX0GAiaVDDibUibTaAHyU0ibCkyFMobxSWA/0?wx_fmt=jpeg",
        url="https://mp.weixin.qq.com/s/SbB40tES2MrfoNaIPima5A",
        identities=["s_SbB40tES2MrfoNaIPima5A", "3239902349_2247544521_1"],
    ),
    "wae_normal_c01_jinbang_audio_svg_gif": dict(
        title="睡前数学知识点｜Day15：疯狂星期四，V你一个知识点：定积分核心公式~", account="金榜时代官微", author="小榜",
        published=1764842451, description="",
        cover="https://mmbiz.qpic.cn/sz_mmbiz_jpg/SUIPcAicB0bhnNKkh1YNsK0NF8o1fOAF02fKUwOszueyBzSiajI9OuciaxrCkNib8m2XwodicySKIocOMdAZxO1fNvg/0?wx_fmt=jpeg",
        # msg_link carries chksm and #rd; the canonical URL keeps only the identity
        url="https://mp.weixin.qq.com/s?__biz=MzIzNDcyMTI5MQ==&mid=2247664546&idx=2&sn=cf3b894cff1fe9892fb0598a40c465fb",
        identities=["3234721291_2247664546_2"],
    ),
    "wsg_2018_mpvoice_cjrb": dict(
        title="语音 | 早安武汉〔2018.3.19 周一〕", account="长江日报", author="", published=1521408600,
        description="◇“老赖”将被限制不动产交易\n◇近5万游客周末逛东湖樱园\n◇东湖和武大周边周末限行\n◇卓尔一波三折两连胜\n◇周三开始放晴",
        cover="http://mmbiz.qpic.cn/mmbiz_jpg/cdpEKcgoS1CIx2lBCfu0y8GGFGicSgfoAu0JWXzWGvjYkuU0bnMBl8egicVN0kHsdPmiaeVfwHhlQSOTmYDEWX0jQ/0?wx_fmt=jpeg",
        # msg_link and sn are empty on this 2018 page: the URL is built from biz, mid and idx
        url="https://mp.weixin.qq.com/s?__biz=MjM5ODAyNTcwMA==&mid=2651788393&idx=1",
        identities=["2398025700_2651788393_1"],
    ),
    "wae_imgshare_01_36kr_type8": dict(
        title="新能源车均价创6年新低，价格战「寒气」侵蚀供应链", account="36氪", author="", published=1762338600,
        cover="https://mmbiz.qpic.cn/mmbiz_jpg/QicyPhNHD5vZR18V1mp20xVIsYhNwqG4wKD0kaxVZukZiaXVGwdqjIRrVmiaYItvvHncImbYbfzenBBpoJjHcGAag/0?wx_fmt=jpeg",
        url="https://mp.weixin.qq.com/s/JJyPUpHLM2bGvfk5FNvTUA",
        identities=["s_JJyPUpHLM2bGvfk5FNvTUA", "3264997043_2248864730_1"],
    ),
    "wae_share_03_ruanyifeng_js_share_source": dict(
        title="和死神赛跑：趁父亲还在世，我想用人工智能留住他", account="阮一峰的网络日志", author="", published=1574683643,
        cover="http://mmbiz.qpic.cn/mmbiz_jpg/kZT8Q99SRAR6555ZfYAL32uvQ4Mric2BKQeCeKNibiclAsmvLf1cYvGgVfJ7t198TiazsWkAXZEhibPSZfmbP0IYXzQ/0?wx_fmt=jpeg",
        url="https://mp.weixin.qq.com/s/bRt0seqxnIuoQnASJTU-8w",
        identities=["s_bRt0seqxnIuoQnASJTU-8w", "3286016687_2650222329_1"],
    ),
}


@pytest.mark.parametrize("name", sorted(METADATA))
def test_metadata_of_every_article_page(name: str) -> None:
    meta = wechat.metadata(page(name))
    expected = METADATA[name]
    assert {key: getattr(meta, key) for key in expected} == expected


def test_descriptions_are_js_and_html_unescaped() -> None:
    meta = wechat.metadata(page("wae_imgshare_01_36kr_type8"))
    assert meta.description.startswith("今年，中国汽车行业价格战，寒气越发深入。\n\n2025年9月")
    assert meta.description.endswith('"Talk is Cheap. Show me the data."')  # \x22 in the page
    # the article carries it: the summary of a share whose body has no text
    assert wechat.article_from_page(page("wae_imgshare_01_36kr_type8")).description == meta.description


def test_title_falls_back_to_og_title_then_activity_name() -> None:
    # Hand-made variants of a real page with the JS title removed.
    html = fixture_text("wechat/pages/wae_normal_01_xuanyuan_code.html.gz")
    no_js = html.replace("var msg_title = 'AI编程害死我了，给我的抓包软件埋了一个大雷！'.html(false);", "")
    assert wechat.metadata(wechat.classify(no_js)).title == "AI编程害死我了，给我的抓包软件埋了一个大雷！"
    no_og = re.sub(r'<meta property="og:title"[^>]*>', "", no_js)
    assert 'og:title' not in no_og
    assert wechat.metadata(wechat.classify(no_og)).title == "AI编程害死我了，给我的抓包软件埋了一个大雷！"


def test_paid_mark_is_not_part_of_the_title() -> None:
    # Hand-made: a real page without JS/og titles, its heading marked as paid pages are.
    html = fixture_text("wechat/pages/wae_normal_01_xuanyuan_code.html.gz")
    html = html.replace("var msg_title = 'AI编程害死我了，给我的抓包软件埋了一个大雷！'.html(false);", "")
    html = re.sub(r'<meta property="og:title"[^>]*>', "", html)
    html = html.replace("AI编程害死我了，给我的抓包软件埋了一个大雷！</h1>", "AI编程害死我了，给我的抓包软件埋了一个大雷！<span>已付费</span></h1>")
    assert wechat.metadata(wechat.classify(html)).title == "AI编程害死我了，给我的抓包软件埋了一个大雷！"


def test_printed_date_is_used_when_no_time_variable_is_left() -> None:
    # Hand-made: a real page without its time variables, with #publish_time as a browser fills it.
    html = fixture_text("wechat/pages/wae_normal_01_xuanyuan_code.html.gz")
    html = re.sub(r"(var|window\.)\s*(ct|create_time|oriCreateTime)\s*=", "var _gone =", html).replace("ori_create_time:", "_gone:")
    html = html.replace('<em id="publish_time" class="rich_media_meta rich_media_meta_text"></em>',
                        '<em id="publish_time" class="rich_media_meta rich_media_meta_text">2025年11月10日 12:00</em>')
    assert wechat.metadata(wechat.classify(html)).published == 1762747200  # 2025-11-10 12:00 +08:00


def test_2018_date_is_used_when_ct_is_missing() -> None:
    html = fixture_text("wechat/pages/wsg_2018_mpvoice_cjrb.html.gz").replace('var ct = "1521408600";', "")
    assert wechat.metadata(wechat.classify(html)).published == 1521388800  # 2018-03-19 00:00 +08:00


def test_js_values() -> None:
    # Hand-made script forms, as seen across the recorded templates.
    js = wechat.JsVars([(
        "var msg_title = 'A &amp; B'.html(false);\n"
        "var nickname = htmlDecode(\"N\\x26amp;M\");\n"
        "window.idx = '' || '' || '2';\n"
        "var msg_desc = opt.node.getAttribute('data-desc') || '';\n"
        "var ct = \"1700000000\" * 1;\n"
        "var TextContentNoEncode = window.a_value_which_never_exists || 'line\\x0aline2';\n"
        "  title: JsDecode('T\\x27s'),\n"
    ).encode()])
    assert js.get("msg_title") == "A & B"
    assert js.get("nickname") == "N&M"
    assert js.get("idx") == "2"
    assert js.get("msg_desc") == ""  # a function call's argument is not the variable's value
    assert js.get("ct") == "1700000000"
    assert js.get("TextContentNoEncode") == "line\nline2"
    assert js.member("title") == "T's"
    with pytest.raises(KeyError, match="ASSIGNED_NAMES"):  # a name never looked for is refused, not read as missing
        js.get("msg_source_url")


# --- articles -----------------------------------------------------------------------------------


def test_article_identity_and_aliases() -> None:
    article = wechat.article_from_page(
        page("wae_normal_01_xuanyuan_code", "http://127.0.0.1:1/s/KDWh_qGpFN5Vu1TR9t30Mw"),
        reached_by=["https://mp.weixin.qq.com/s?__biz=MzIyNjMxOTY0NA==&mid=2247504179&idx=1&sn=x&chksm=y&scene=21#rd"],
    )
    assert (article.source, article.id, article.url) == ("wechat", "s_KDWh_qGpFN5Vu1TR9t30Mw", "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw")
    assert article.aliases == ["wechat:s_KDWh_qGpFN5Vu1TR9t30Mw", "wechat:3226319644_2247504179_1"]
    assert article.attribution == wechat.Attribution("轩辕的编程宇宙", article.url, "AI编程害死我了，给我的抓包软件埋了一个大雷！")


def test_source_name_is_a_parameter() -> None:
    article = wechat.article_from_page(page("wae_normal_01_xuanyuan_code"), source="weixin")
    assert article.key == "weixin:s_KDWh_qGpFN5Vu1TR9t30Mw"
    assert "wechat:s_KDWh_qGpFN5Vu1TR9t30Mw" in article.aliases  # the namespace republish links use


def test_image_share_gives_its_pictures_then_its_text() -> None:
    article = wechat.article_from_page(page("wae_imgshare_01_36kr_type8"))
    soup = BeautifulSoup(article.body_html, "lxml")
    images = [img["src"] for img in soup.find_all("img")]
    # the four pictures of window.picture_page_info_list, not their watermark or share-cover copies
    assert len(images) == 4
    assert images[0] == "https://mmbiz.qpic.cn/mmbiz_png/QicyPhNHD5vZR18V1mp20xVIsYhNwqG4wdiaj1rqYFwibB3ZOsnsOydzic8RQ3Y3hNiczCCcvoCakTbxcsLq9qRqtYg/0?wx_fmt=png&from=appmsg"
    paragraphs = [p.get_text() for p in soup.find_all("p") if p.get_text()]
    assert paragraphs[0] == "今年，中国汽车行业价格战，寒气越发深入。"
    assert paragraphs[-1] == '** “透视图”是36氪新推出的轻量化数据图文栏目——以数据透视趋势，以图片呈现要点。"Talk is Cheap. Show me the data."'
    assert len(paragraphs) == 7


def test_text_share_gives_its_text() -> None:
    # Hand-made item_show_type 10 page (no real one recorded): the text sits in TextContentNoEncode.
    html = (
        "<html><head><script>var item_show_type = \"10\";\nvar ct = \"1700000000\";\n"
        "var nickname = htmlDecode(\"某账号\");\nvar msg_title = '';\n"
        "var msg_link = \"https://mp.weixin.qq.com/s/TextShareToken01\";\n"
        "var TextContentNoEncode = window.a_value_which_never_exists || '第一行\\x0a第二行\\x0a\\x0a第二段 \\x3cb\\x3e';\n"
        "</script></head><body></body></html>"
    )
    shared = wechat.classify(html)
    assert shared.kind == wechat.TEXT_SHARE
    article = wechat.article_from_page(shared)
    assert article.title == "第一行"
    assert article.body_html == "<p>第一行<br>第二行</p><p>第二段 &lt;b&gt;</p>"


def text_share_page(text: str, title: str) -> str:
    """Hand-made item_show_type 10 page whose title variable holds the whole post, as real text shares'
    titles did (several lines, hundreds of characters)."""
    return (
        "<html><head><script>var item_show_type = \"10\";\nvar ct = \"1700000000\";\n"
        f"var msg_title = '{title}'.html(false);\n"
        "var msg_link = \"https://mp.weixin.qq.com/s/TextShareToken02\";\n"
        f"var TextContentNoEncode = window.a_value_which_never_exists || '{text}';\n"
        "</script></head><body></body></html>"
    )


def test_text_share_title_is_its_first_line_cut_short() -> None:
    first = "这是一条很长的文字分享的第一行，" * 6  # 96 characters
    text = f"\\x0a{first}\\x0a第二行\\x0a\\x0a第二段"
    shared = wechat.classify(text_share_page(text, f"{first} 第二行 第二段"))
    article = wechat.article_from_page(shared)
    assert article.title == first[:64] + "…"
    assert "\n" not in article.title and len(article.title) == 65
    assert article.attribution.title == article.title
    assert first in article.body_html and "第二段" in article.body_html  # the whole text stays in the body
    assert wechat.article_from_page(shared, title_length=10).title == first[:10] + "…"


def test_text_share_short_first_line_is_the_whole_title() -> None:
    shared = wechat.classify(text_share_page("短的一行  \\x0a第二行很长很长", "短的一行 第二行很长很长"))
    assert wechat.article_from_page(shared).title == "短的一行"
    assert wechat.share_title("  \n" + "a" * 64 + "\nb") == "a" * 64  # exactly at the limit: not cut
    assert wechat.share_title("a" * 65) == "a" * 64 + "…"


# --- cleaning #js_content -----------------------------------------------------------------------


def content_of(name: str) -> str:
    return wechat_page.outer_html(page(name).content)


def test_lazy_images_get_real_sources_preferring_the_uncropped_original() -> None:
    body = BeautifulSoup(clean_content(content_of("wae_normal_03_yinji_blockquote_qr")), "lxml")
    first = body.find("img")["src"]
    assert first == "https://mmbiz.qpic.cn/sz_mmbiz_png/INNfEriciaG5fEx2QN8tXIUMiapukHn6CG1ibjYYibupqYOUNJ53qEZLYBQM7B2m3BSy7ZTWbtZkaw5o7hH9VpAAfww/0?wx_fmt=png&from=appmsg"
    assert all(img.get("src") for img in body.find_all("img"))


def test_css_background_image_is_kept_as_an_image() -> None:
    body = clean_content(content_of("wae_normal_c01_jinbang_audio_svg_gif"))
    assert 'src="https://mmbiz.qpic.cn/sz_mmbiz_png/SUIPcAicB0bhnNKkh1YNsK0NF8o1fOAF02EIB4parW5tBD7jfaKNHviaqmev46EiaO5yNB0vJGn7ibVQyyuMZGjfsQ/640?wx_fmt=png&amp;from=appmsg"' in body


def test_audio_embeds_become_links_to_their_media() -> None:
    jinbang = to_markdown(clean_content(content_of("wae_normal_c01_jinbang_audio_svg_gif")))
    assert "[音频：【Day 15】大题给分点在过程与步骤！保证步骤清晰](https://res.wx.qq.com/voice/getvoice?mediaid=MzIzNDcyMTI5MV8yMjQ3NjY0NTQ1)" in jinbang
    cjrb = to_markdown(clean_content(content_of("wsg_2018_mpvoice_cjrb")))
    assert cjrb.startswith("[音频：早安武汉3月19日](https://res.wx.qq.com/voice/getvoice?mediaid=MjM5ODAyNTcwMF8yNjUxNzg4Mzky)")


def test_video_and_music_embeds_become_links() -> None:
    # Hand-made embeds in WeChat's markup (none in the recorded pages).
    html = (
        '<div id="js_content"><iframe class="video_iframe rich_pages" data-src="https://v.qq.com/iframe/preview.html?vid=w0012abcdef&width=500"></iframe>'
        '<qqmusic musicid="123" mid="004Z8Ihr0JIu5s" music_name="晴天" singer="周杰伦"></qqmusic>'
        '<iframe class="vote_iframe" data-src="/mp/newappmsgvote?action=show"></iframe></div>'
    )
    assert to_markdown(clean_content(html)) == (
        "[视频](https://v.qq.com/x/page/w0012abcdef.html)\n\n[音乐：晴天 - 周杰伦](https://y.qq.com/n/ryqq/songDetail/004Z8Ihr0JIu5s)"
    )


def test_list_items_wrapped_in_sections_keep_their_text() -> None:
    md = to_markdown(clean_content(content_of("wae_normal_01_xuanyuan_code")))
    assert "* [一个神奇的网站：在线版“Wireshark”！](https://mp.weixin.qq.com/s?__biz=MzIyNjMxOTY0NA==&mid=2247504004&idx=1&sn=64141adc69cc0d511aff67401c6d76c0&scene=21#wechat_redirect)" in md
    assert "## 尝试定位" in md.split("\n")
    assert '> tshark -r \\"/Users/xuanyuan/easytshark/UtWPGrZr.pcap\\" -T pdml' in md.split("\n")  # quotes escaped for Hugo's typographer


@pytest.mark.parametrize(
    "name", ["wae_normal_01_xuanyuan_code", "wae_normal_03_yinji_blockquote_qr", "wae_normal_c01_jinbang_audio_svg_gif", "wsg_2018_mpvoice_cjrb"]
)
def test_no_css_or_js_leaks_into_the_markdown(name: str) -> None:
    text = visible_text(render_html(to_markdown(clean_content(content_of(name)))))
    for leak in ("function(", "px;", "rgb(", "{display", "var ", "mp-style", "!important"):
        assert leak not in text


def test_code_snippet_becomes_a_fenced_block_with_its_lines() -> None:
    html = (WECHAT / "fragments" / "markdownPaper_fence.html").read_text(encoding="utf-8")
    md = to_markdown(clean_content(html))
    assert md.startswith("```css\n")
    assert code_blocks(render_html(md)) == [["pre code {", "  display: -webkit-box !important", "}"]]
    assert code_blocks(render_html(md)) == code_blocks(render_html((WECHAT / "fragments" / "markdownPaper_fence.md").read_text(encoding="utf-8")))


def test_formulas_become_dollar_math() -> None:
    html = (WECHAT / "fragments" / "markdownPaper_formula.html").read_text(encoding="utf-8")
    md = to_markdown(clean_content(html))
    assert md.startswith("$\\ce{Hg^2+ ->[I-] HgI2 ->[I-] [Hg^{II}I4]^2-}$\n\n$$\nH(D_2) = -\\left(\\frac{2}{4}")
    assert "$$\n\\begin{pmatrix}\n  1 & a_1 & a_1^2 & \\cdots & a_1^n \\\\\n" in md
    assert md.count("$$") == 4
    # rendered, the same text as the expected Markdown's
    expected = (WECHAT / "fragments" / "markdownPaper_formula.md").read_text(encoding="utf-8")
    assert visible_text(render_html(md)) == visible_text(render_html(expected))


def test_rich_fragment_keeps_text_table_code_and_captions() -> None:
    html = (WECHAT / "fragments" / "markdownPaper_paper1-wechat.html").read_text(encoding="utf-8")
    md = to_markdown(clean_content(html))
    rendered = render_html(md)
    expected = render_html((WECHAT / "fragments" / "markdownPaper_paper1-wechat.md").read_text(encoding="utf-8"))
    assert kept_in_order(visible_text(html), visible_text(rendered)) >= 0.99
    assert kept_in_order(visible_text(expected), visible_text(rendered)) >= 0.98
    assert code_blocks(rendered)[0] == ["pre code {", "  display: -webkit-box !important", "}"]  # <br> lines kept
    table = BeautifulSoup(render_html_gfm(md), "lxml").find("table")
    assert [td.get_text() for td in table.find_all("tr")[1].find_all("td")] == ["mdnice", "免费", "1天", "低"]
    assert "\n\n完整界面\n\n" in md  # the figcaption on its own line under its image


def render_html_gfm(markdown_text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").render(markdown_text)


# --- junk rules ---------------------------------------------------------------------------------


def test_no_rules_remove_nothing() -> None:
    md = to_markdown(clean_content(content_of("wae_normal_03_yinji_blockquote_qr")))
    assert "关注我们" in md
    assert md.count("![](") == 15


def test_account_trailer_and_block_rules() -> None:
    setting = {
        "印记中文": {"trailer": [r".*关注我们"], "blocks": [r"长按识别二维码查看原文"]},
        "other": {"trailer": [r".*"]},
    }
    rules = junk_rules(setting, ["印记中文", "MzIzOTkwMjM0OQ=="])
    assert rules == JunkRules(blocks=("长按识别二维码查看原文",), trailer=(".*关注我们",))
    md = to_markdown(clean_content(content_of("wae_normal_03_yinji_blockquote_qr"), rules))
    assert "关注我们" not in md and "长按识别二维码" not in md
    assert md.count("![](") == 14  # the trailer's QR code is gone, the 13 episode images and the header stay
    assert md.rstrip().endswith("(https://mmbiz.qpic.cn/sz_mmbiz_png/INNfEriciaG5fEx2QN8tXIUMiapukHn6CG1moBhNCIVVvZwuaJzuC3H9GHYBSvTXwanQrA861PcEC8EEoWJ3Qc1FA/640?wx_fmt=png&from=appmsg)")
    assert "https://developertea.com/episodes/ef4d7183-9e22-4d01-8e8e-7630f6b13967" in md


def test_rules_can_be_keyed_by_account_number_and_apply_to_all() -> None:
    setting = {"*": {"images": [r"INNfEriciaG5fkFtYT6Vj5FicQKu49mRHXDUMUYITOhlZ3ufQ0mez8MenpWd4dtrATsThrTMSjaCHmMuc4a6ic3VSA"]},
               "3239902349": {"blocks": [r"🙋‍♀️ 关注我们"]}}
    article = wechat.article_from_page(page("wae_normal_03_yinji_blockquote_qr"), junk=setting)
    md = to_markdown(article.body_html)
    assert "关注我们" not in md and md.count("![](") == 14


def test_editor_markup_in_tables_code_and_lazy_backgrounds() -> None:
    # Hand-made in the editors' markup (none of it in the recorded pages): sections inside table
    # cells, code indented with &nbsp;, a lazy background image and an empty background url().
    html = (
        '<div id="js_content"><table><tbody><tr><th><section><span>名称</span></section></th><th><p>值</p></th></tr>'
        "<tr><td><section><p>第一行</p><p>第二行</p></section></td><td><p><span>2</span></p></td></tr></tbody></table>"
        '<section class="code-snippet__fix"><ul class="code-snippet__line-index"><li></li><li></li></ul><pre data-lang="python">'
        "<code><span>def f():</span></code><code><span>&nbsp;&nbsp;&nbsp;&nbsp;return 1</span></code></pre></section>"
        '<section data-lazy-bgimg="https://mmbiz.qpic.cn/a/b.png" style="background-image: url(&quot;&quot;);">标题</section></div>'
    )
    assert to_markdown(clean_content(html)) == (
        "| 名称 | 值 |\n| --- | --- |\n| 第一行 第二行 | 2 |\n\n```python\ndef f():\n    return 1\n```\n\n![](https://mmbiz.qpic.cn/a/b.png)\n\n标题"
    )


def test_image_share_pictures_from_the_page_data_object() -> None:
    # Hand-made: the recorded image share without its window.picture_page_info_list, leaving
    # the list inside the page's data object (JsDecode'd members).
    html = fixture_text("wechat/pages/wae_imgshare_01_36kr_type8.html.gz").replace("window.picture_page_info_list = [", "window._gone = [", 1)
    article = wechat.article_from_page(wechat.classify(html))
    assert len(BeautifulSoup(article.body_html, "lxml").find_all("img")) == 4


# --- read in a parse worker ---------------------------------------------------------------------


def test_the_page_reader_needs_no_scrapy() -> None:
    """Parse workers import the reader's module, and read a gzipped saved page (gunzipped there):
    importing all of Scrapy there would cost every worker (~0.6 s of CPU)."""
    code = ("import gzip, sys; from crawler.sources import wechat; "
            "page = gzip.compress(open('tests/fixtures/wechat/handmade/anticrawl.html', 'rb').read()); "
            "options = wechat.ReadOptions('wechat', {}, 64, 1 << 24)\n"
            "try: wechat.read_page(page, 'file:///p.html.gz', None, options, [])\n"
            "except wechat.SourceError as exc: print(exc.reason)\n"
            "print('scrapy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["anti-crawl", "False"]


def test_the_worker_reads_what_a_rerender_reads() -> None:
    """The spider's worker call (body, the response's encoding) and the raw archive's path give one article."""
    body = gzip.decompress((WECHAT / "pages" / "wae_normal_03_yinji_blockquote_qr.html.gz").read_bytes())
    reached_by = ["https://mp.weixin.qq.com/s/abcdefgh12"]
    raw = RawSource(wechat.SOURCE, "https://mp.weixin.qq.com/s/x", body, "2026-01-01T00:00:00Z",
                    headers={"content-type": "text/html; charset=utf-8"}, context={"reached_by": reached_by})
    settings = Settings({"WECHAT_SOURCE_NAME": "wechat", "TEXT_SHARE_TITLE_LENGTH": 64, "SAVED_PAGE_MAXSIZE": 1 << 24})
    assert wechat.text_encoding(raw) == "utf-8"
    read = wechat.read_page(body, raw.url, "utf-8", wechat.ReadOptions.of(settings), reached_by)
    again = wechat.article_from_raw(raw, settings)
    assert read.kind == wechat.NORMAL and read.article is not None and read.article.raw is None
    assert again.raw is raw
    again.raw = None
    assert read.article == again
    assert "wechat:s_abcdefgh12" in again.aliases
