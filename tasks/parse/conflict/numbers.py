"""Read quantities in text: numbers, ranges, multipliers, qualifiers (zh and en). Pure.

    "6,000－7,000"  → (6000, 7000, exact)      "约50"      → (50, 50, approx)
    "23,564人以上"   → (23564, None, at_least) "1.2万"     → (12000, 12000, exact)
    "至少1,000–1,500" → (1000, 1500, at_least)  "三千"      → (3000, 3000, exact)
    "c. 2.5 million" → (2500000, 2500000, approx)
Dates are not quantities: "2012年", "4月", "(2012–17)", "17–19 January".
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from dataclasses import dataclass
from functools import cache

# cn2an reads Chinese numerals ("三千五百"). Importing it costs ≈ 0.5 s (it builds three converters
# from YAML files), paid by every `infobox` command, and most texts never need it: it is imported
# at its first use, but looked up now, so that a missing dependency still fails at import.
if importlib.util.find_spec("cn2an") is None:
    raise ModuleNotFoundError("No module named 'cn2an' (needed to read Chinese numerals)",
                              name="cn2an")


@cache
def _cn2an():
    return importlib.import_module("cn2an").cn2an

_CJK_NUM = r"[零〇一二两兩三四五六七八九十][零〇一二两兩三四五六七八九十百千万萬亿億]*"
_NUM = rf"(?:\d{{1,3}}(?:[,，]\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|{_CJK_NUM})"
# Wikis that group thousands with a dot or a space and write decimals with a comma.
CONTINENTAL = {"de", "fr", "es", "it", "ru", "pt", "nl", "pl", "uk", "sv", "cs", "tr"}
_NUM_CONTINENTAL = (rf"(?:\d{{1,3}}(?:\.\d{{3}})+(?![\d,])|\d{{1,3}}(?:[ \u00a0\u202f\u2009]\d{{3}})+(?!\d)"
                    rf"|\d+,\d{{1,2}}(?!\d)|\d{{1,3}}(?:,\d{{3}})+|\d+|{_CJK_NUM})")
_MULT = (r"(?:万|萬|千|百万|百萬|亿|億|\s?thousand|\s?million|\s?billion|\s?millions?(?:\s+de)?|"
         r"\s?millones(?:\s+de)?|\s?milioni|\s?milione(?:\s+di)?|\s?millón(?:\s+de)?|\s?mio\.?|\s?millionen|\s?mrd\.?|\s?млн\.?|"
         r"\s?тыс\.?|\s?тысяч[аи]?|\s?tsd\.?|\s?mille|\s?mila)")
_SEP = r"(?:[-–—－~～]|\s+to\s+|至|到)"
_PRE = (r"(?:约|約|大约|大約|近|将近|將近|至少|最少|超过|超過|逾|不少于|不少於|多于|多於|高于|高於|不下|最多|不超过|不超過|"
        r"about|around|approximately|approx\.?|c\.|ca\.|circa|nearly|almost|roughly|some|over|more than|"
        r"at least|up to|at most|fewer than|less than|under|"
        r"environ|env\.|près de|plus de|au moins|jusqu'à|etwa|rund|ungefähr|mindestens|über|mehr als|bis zu|"
        r"около|ок\.|примерно|почти|более чем|более|свыше|не менее|до|"
        r"aproximadamente|aprox\.|cerca de|unos|unas|más de|al menos|hasta|"
        r"quasi|oltre|almeno|fino a|più di|~|～|>|<|≥|≤)")
_POST = r"(?:(?:人|名)?(?:以上|左右|以下|程度|超)|\+|余|餘|多|\s?or more|\s?plus)"

_CJK_COUNTED = re.compile(r"\s*(?:余|餘|多)?(?:人|名|艘|架|辆|輛|门|門|个|個|匹|隻|只|条|條|萬|万)")
# A number written against a unit word without 个/個 names that unit (第5軍, 31大队, 225團) or a
# model (62型, 55甲型): it is not a count.
_DESIGNATION = re.compile(r"(?:大队|大隊|中队|中隊|支队|支隊|团|團|营|營|连|連|师|師|旅|军|軍|集团军|集團軍|"
                          r"联队|聯隊|纵队|縱隊|兵团|兵團|[甲乙丙丁]?型|式|号|號)")
_ID_LIST = re.compile(r"[（(]\s*\d+(?:\s*[、,，]\s*\d+){2,}\s*[)）]")
_LIST_NUMBER = re.compile(r"[.．、)）](?!\d)")
# Ref markers (tasks.parse.render) may stand between the ends of a range: 14<ref/>–16.
_MARKS = r"(?:\ue000.\ue001\s*)*"


def _quantity_re(number: str) -> re.Pattern:
    return re.compile(
        rf"(?<![A-Za-z0-9.,])(?P<pre>{_PRE}\s*)?(?P<n1>{number})(?P<m1>{_MULT}(?![a-zа-я]))?"
        rf"(?:\s*{_MARKS}(?P<sep>{_SEP})\s*{_MARKS}(?P<n2>{number})(?P<m2>{_MULT}(?![a-zа-я]))?)?"
        rf"(?P<post>{_POST})?",
        re.IGNORECASE)


QUANTITY_RE = _quantity_re(_NUM)
QUANTITY_RE_CONTINENTAL = _quantity_re(_NUM_CONTINENTAL)
# Ordinals and names are not counts: 第3旅, 1st Division, 3e régiment, Su-25, T-72, No. 5, #3.
_ORDINAL_AFTER = re.compile(r"(?:st|nd|rd|th|e|er|re|ème|eme|-?я|-?й|-?го|º|ª|°)(?![a-zа-я])", re.I)
_NAME_BEFORE = re.compile(r"(?:第|[A-Za-zА-Яа-я]-?|No\.\s?|#|№\s?)$")

_APPROX = {"约", "約", "大约", "大約", "近", "将近", "將近", "about", "around", "approximately",
           "approx", "approx.", "c.", "ca.", "circa", "nearly", "almost", "roughly", "some", "~", "～",
           "左右", "程度", "environ", "env.", "près de", "etwa", "rund", "ungefähr", "около", "ок.",
           "примерно", "почти", "aproximadamente", "aprox.", "cerca de", "unos", "unas", "quasi"}
_AT_LEAST = {"至少", "最少", "超过", "超過", "逾", "不少于", "不少於", "多于", "多於", "高于", "高於", "不下", "over", "more than", "at least",
             ">", "≥", "+", "以上", "余", "餘", "多", "超", "or more", "plus", "plus de", "au moins",
             "mindestens", "über", "mehr als", "более чем", "более", "свыше", "не менее", "más de",
             "al menos", "oltre", "almeno", "più di"}
_AT_MOST = {"最多", "不超过", "不超過", "up to", "at most", "fewer than", "less than", "under", "<",
            "≤", "以下", "jusqu'à", "bis zu", "до", "hasta", "fino a"}
_MULTIPLIERS = {"万": 10_000, "萬": 10_000, "千": 1_000, "百万": 1_000_000, "百萬": 1_000_000,
                "亿": 100_000_000, "億": 100_000_000, "thousand": 1_000, "million": 1_000_000,
                "billion": 1_000_000_000, "millions": 1_000_000, "millones": 1_000_000,
                "milioni": 1_000_000, "milione": 1_000_000, "millón": 1_000_000, "mio": 1_000_000, "millionen": 1_000_000, "mrd": 1_000_000_000,
                "млн": 1_000_000, "тыс": 1_000, "тысяч": 1_000, "тысяча": 1_000, "тысячи": 1_000,
                "tsd": 1_000, "mille": 1_000, "mila": 1_000}
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december", "jan ", "feb ", "mar ", "apr ", "jun ", "jul ",
           "aug ", "sep ", "oct ", "nov ", "dec ")
_UNIT_AFTER = re.compile(r"\s*(人|名|士兵|兵|troops|soldiers|men|personnel|fighters|killed|"
                         r"wounded|dead|captured|missing|refugees|displaced|civilians)", re.I)
_DATE_AFTER = re.compile(r"\s*(年|月|日|号|號)")
MAX_QUANTITY = 10**15  # larger "numbers" are digit runs (ids, typos), not counts


@dataclass(frozen=True)
class Quantity:
    start: int
    end: int
    low: int
    high: int | None
    qualifier: str  # exact | approx | at_least | at_most
    text: str


def _to_number(token: str, multiplier: str | None, continental: bool = False) -> float:
    if continental:
        token = re.sub(r"[ .\u00a0\u202f\u2009]", "", token) if not re.fullmatch(r"\d+,\d{1,2}", token) \
            else token.replace(",", ".")
    elif not multiplier and re.fullmatch(r"\d{1,3}\.000", token):
        token = token.replace(".", "")  # "c. 5.000" on an English wiki: five thousand, not five
    token = token.replace(",", "").replace("，", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", token):
        value = float(token)
    else:
        value = float(_cn2an()(token.replace("兩", "两").replace("〇", "零"), "smart"))
    if multiplier:
        value *= _MULTIPLIERS[re.sub(r"\s+(?:de|di)$|\.$", "", multiplier.strip().lower())]
    return value


def _qualifier(pre: str | None, post: str | None) -> str:
    words = [w.strip().lower().lstrip("人名") for w in (pre, post) if w and w.strip()]
    if any(w in _AT_LEAST for w in words):
        return "at_least"
    if any(w in _AT_MOST for w in words):
        return "at_most"
    if any(w in _APPROX for w in words):
        return "approx"
    return "exact"


_MONTH_AFTER = re.compile(
    r"\s*(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|janv|févr|mars|avr|mai|juin|juil|août|"
    r"sept|déc|januar|februar|märz|juni|juli|oktober|dezember|enero|febrero|marzo|abril|mayo|junio|julio|"
    r"agosto|septiembre|octubre|noviembre|diciembre|gennaio|febbraio|aprile|maggio|giugno|luglio|"
    r"settembre|ottobre|dicembre|января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|"
    r"ноября|декабря)(?![a-zà-ÿ])", re.IGNORECASE)
_MONTH_WORD = r"[a-zà-ÿа-я]+"


def _is_date(text: str, match: re.Match) -> bool:
    after = text[match.end():match.end() + 12].lower()
    if _DATE_AFTER.match(text, match.end()) or after.lstrip().startswith(_MONTHS) \
            or (_MONTH_AFTER.match(text, match.end()) and not match["pre"]):
        return True
    n1 = match["n1"]
    # A bare year (1800-2100, no separators) not followed by a unit is a date or a period.
    if re.fullmatch(r"1[89]\d\d|20\d\d|2100", n1) and not match["m1"] \
            and not _UNIT_AFTER.match(text, match.end()):
        return True
    before = text[max(0, match.start() - 12):match.start()].lower()
    return before.rstrip().endswith(_MONTHS)


def find_quantities(text: str, lang: str | None = None, limit: int | None = None) -> list[Quantity]:
    """Every quantity in ``text``, left to right (dates, ordinals and names skipped).

    On wikis of ``CONTINENTAL`` languages, "12.000" and "12 000" are twelve thousand and "1,5" is
    one and a half. With ``limit``, stops after that many quantities."""
    continental = lang in CONTINENTAL
    found: list[Quantity] = []
    id_lists = [(m.start(), m.end()) for m in _ID_LIST.finditer(text)]
    for match in (QUANTITY_RE_CONTINENTAL if continental else QUANTITY_RE).finditer(text):
        if limit is not None and len(found) >= limit:
            break
        n1 = match["n1"]
        if any(start <= match.start() < end for start, end in id_lists):
            continue  # （103、105、174、177）: hull or unit numbers, not counts
        if not match["pre"] and (_NAME_BEFORE.search(text, max(0, match.start() - 6), match.start())
                                 or _ORDINAL_AFTER.match(text, match.end())):
            continue
        if not re.search(r"\d", n1) and not match["m1"] and not _CJK_COUNTED.match(text, match.end()):
            continue  # Chinese numerals count only with a unit: 三千人, 两艘, not 一些
        if _DESIGNATION.match(text, match.end()) or (
                not text[:match.start()].strip() and _LIST_NUMBER.match(text, match.end())):
            continue  # 31大队, 225團, 62型 name a unit or a model; "2.海軍：" numbers a list
        if _is_date(text, match):
            continue
        try:
            low = _to_number(n1, match["m1"], continental)
            high = _to_number(match["n2"], match["m2"] or match["m1"], continental) if match["n2"] else low
        except (ValueError, KeyError):
            continue
        if match["n2"] and match["m2"] and not match["m1"]:
            low = _to_number(n1, match["m2"], continental)  # "1–2万": both ends in ten-thousands
        if max(low, high) > MAX_QUANTITY:
            continue  # a digit run longer than any count (or inf): not a quantity
        qualifier = _qualifier(match["pre"], match["post"])
        # A range written high-to-low ("65–6") covers the same numbers: store it as [6, 65].
        low_i, high_i = sorted((round(low), round(high)))
        if qualifier == "at_least":
            # "至少1,000–1,500": the range as written keeps both ends; the interval is still open.
            high_out: int | None = high_i if match["n2"] else None
        elif qualifier == "at_most":
            low_i, high_out = 0, max(low_i, high_i)
        else:
            high_out = high_i
        found.append(Quantity(match.start(), match.end(), low_i, high_out, qualifier,
                              match.group(0).strip()))
    return found
