"""House rule: what people read is in US English. Finds British spellings word by word.

Used by tests/web/test_us_english.py (templates, Python strings, docs) and by tests/conftest.py
on every HTML page the tests render. Names in code are not text: a word joined to others by `_`,
`.` or `/`, or written in CamelCase, is an identifier and is left alone (`enrol.start`,
`organisation_id`, `OrganisationGrant`).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Whole words (lower case) spelled the British way.
WORDS = frozenset(
    """
    enrol enrols enrolment enrolments practise practised practises practising
    cancelled cancelling canceller travelled travelling traveller labelled labelling
    modelled modelling signalled signalling totalled fuelled levelled levelling channelled
    counselled counselling dialled dialling grey greys greyed whilst learnt spelt
    fulfil fulfils fulfilment instalment instalments enquiry enquiries judgement ageing
    artefact artefacts cheque cheques centre centres centred metre metres fibre theatre
    catalogue catalogues analogue programme programmes licence licences defence offence
    pretence analyse analysed analysing paralyse catalyse manoeuvre sceptical aluminium
    tyre tyres storey focussed focussing benefitted
    """.split()
)
# -ise/-isation verbs and nouns (organise, recognised, normalisation, …) by their stems.
_ISE = re.compile(
    r"(?:organ|recogn|normal|synchron|real|author|apolog|priorit|summar|minim|maxim|custom"
    r"|util|initial|serial|optim|final|categor|emphas|memor|standard|special|visual|capital"
    r"|character|critic|sanit|token|local|random|central|personal|digit|item|stabil|familiar"
    r"|neutral|penal|modern|general|rational|public|legal|symbol|harmon|vocal|ideal|equal"
    r"|global|natural|jeopard|subsid|fantas|agon|patron|monopol|sympath|energ|mobil|steril"
    r"|fertil|immun|dramat|internal|national|hospital|vandal|italic|terror)"
    r"is(?:e|es|ed|ing|ation|ations|er|ers|able)$"
)
_OUR = re.compile(
    r"(?:col|behavi|fav|hon|lab|neighb|rum|hum|flav|harb|endeav|vig|arm|parl|od|sav|val"
    r"|splend|cand|clam|rig|tum)our(?:s|ed|ing|ite|ites|able|ably|al|ful|less|ry|y)?$"
)
# British medical spellings: paediatric, anaesthesia, haemoglobin, oedema, oesophagus, …
_AE_OE = re.compile(
    r"^(?:ortho)?(?:paed|anaes|haem|gynaec|leukaem|diarrhoe|oedem|oesoph|oestr|foet)"
)
PHRASES = ("tick the box", "tick box", "ticked", "per cent")

# A chunk of letters, digits and the joiners that make identifiers; hyphens are prose.
_CHUNK = re.compile(r"[A-Za-z0-9_]+(?:[./][A-Za-z0-9_]+)*")


def _british(word: str) -> bool:
    lower = word.lower()
    return bool(lower in WORDS or _ISE.search(lower) or _OUR.search(lower) or _AE_OE.search(lower))


def british_words(text: str) -> list[str]:
    """The British spellings in text, in order (phrases included)."""
    found = []
    for chunk in _CHUNK.findall(text or ""):
        if any(c in chunk for c in "_./") or re.search(r"\d", chunk):
            continue  # an identifier, a path, a number
        if re.search(r"[a-z][A-Z]", chunk):
            continue  # CamelCase: a class name
        if _british(chunk):
            found.append(chunk)
    lowered = " ".join((text or "").lower().split())
    found += [p for p in PHRASES if re.search(rf"\b{p}\b", lowered)]
    return found


class _Text(HTMLParser):
    """The text a person reads or hears from an HTML page. A stream of strings is all this
    needs, on every response of every test: building a document (support.pages) for it
    would cost several times as much."""

    SPOKEN = ("alt", "title", "aria-label", "placeholder")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self.parts += [v for k, v in attrs if k in self.SPOKEN and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.parts)


def check_page(html: str, where: str) -> None:
    """Fail when an HTML page shows a British spelling."""
    found = british_words(html_text(html))
    assert not found, f"{where} shows British spellings {found}: the users are US prescribers"
