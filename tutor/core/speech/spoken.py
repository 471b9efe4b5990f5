"""What a recogniser writes → what the numeric checks and the judge read.

A spoken technical answer reaches the grader through speech recognition, which writes numbers
as words ("seventy B", "two bytes"), splits what a typist writes as one token ("fp 16", "8 K",
"1.4 e 11") and mishears domain terms ("KV cash", "Q Laura"). `written` undoes that, so the
same answer scores the same typed or spoken:

- number words become digits (the `text2num` library; it leaves "one" and "two" alone, which
  we convert only where a unit or an operator makes them a quantity: "two bytes" → "2 bytes");
  a scale word that ends a number stays a word, as a typist writes it: "seventy billion
  parameters" → "70 billion parameters", not "70000000000 parameters";
- a number and its scale or unit letter join up: "70 B" → "70B", "8 K" → "8K", "1.4 e 11" →
  "1.4e11", "10 to the 11" → "10^11", "2 times 80" → "2 × 80", "70-billion" → "70 billion",
  and a recogniser's "100 and 40" (for "one hundred and forty") → "140";
- words that sound like a course's terms become those terms, only where the whole phrase then
  spells a term: "KV cash" → "KV cache", "fp 16" → "fp16", "G Q A" → "GQA". A lone "cash"
  stays "cash". A spelled-out acronym that is not a term but rhymes letter by letter with
  exactly one of the course's acronyms becomes it ("DQA" → "GQA": D and G both end in "ee");
  list near-homophones that are real terms (GPU, CPU, TPU) so that none is rewritten. A long
  word (7 letters or more) one letter away from exactly one long term is that term:
  "mentissa" → "mantissa", "quantination" → "quantization";
- a question mark is the recogniser's guess from the voice's pitch, not something the learner
  wrote: a sentence it ends is kept a question only when its words make one (it opens with an
  auxiliary, "Is it…", "Doesn't…", or a wh-word and, within two words, an auxiliary, "Why
  does…", "How many bytes is…"); otherwise it ends with a full stop. A typed question asserts
  nothing and is graded so; a statement said with a rising voice must not be ("…its product
  with the activation?" was graded fail).
"""

import re
from collections.abc import Callable, Sequence

SMALL = {"zero": "0", "one": "1", "two": "2"}  # what text2num leaves as words (threshold 3)
UNIT_WORDS = (r"bytes?|bits?|[KMGTP]i?B|(?:kilo|mega|giga|tera|kibi|mebi|gibi)bytes?|gigs?|"
              r"params?|parameters?|layers?|heads?|tokens?|times|x|×|percent")
_SMALL_NUMBER = re.compile(rf"\b({'|'.join(SMALL)})\b(?=\s+(?:{UNIT_WORDS})\b)", re.IGNORECASE)
_AFTER_TIMES = re.compile(rf"(?<=\btimes\s)({'|'.join(SMALL)})\b|(?<=×\s)({'|'.join(SMALL)})\b",
                          re.IGNORECASE)
_NUMBER_WORDS = ("zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
                 "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
                 "eighty|ninety|hundred")
_KEPT_WORDS = re.compile(  # left to the words: a scale that ends its number, or a plural ("billions")
    rf"\b((?:thousand|million|billion|trillion)\b(?!\s+(?:and\s+)?(?:{_NUMBER_WORDS}|\d))|"
    r"(?:tens|dozens|hundreds|thousands|millions|billions|trillions)\b)", re.IGNORECASE)
_NUM = r"\d+(?:\.\d+)?"
COUNTED = r"tokens?|context|parameters?|params|sequences?|requests?|window"  # "8 K context", not "2 K and V"
_JOINS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\b([1-9])00,?\s+and\s+([1-9]\d?)(?![\d.,]\d)"),  # "100 and 40" (a hundred and forty)
     lambda m: str(int(m[1]) * 100 + int(m[2]))),
    (re.compile(r"\b(\d+)-(?=(?:thousand|million|billion|trillion)\b)", re.IGNORECASE), r"\1 "),
    (re.compile(rf"\b({_NUM})\s+(?:e|E)\s+(\d+)\b"), r"\1e\2"),  # 1.4 e 11
    (re.compile(rf"\b({_NUM})\s+times\s+10\s+to\s+the\s+(?:power\s+of\s+)?(\d+)(?:th)?\b"),
     r"\1 × 10^\2"),
    (re.compile(r"\b10\s+to\s+the\s+(?:power\s+of\s+)?(\d+)(?:th)?\b"), r"10^\1"),
    (re.compile(rf"\b({_NUM})\s+(?:times|x)\s+(?=\d)"), r"\1 × "),  # 2 times 80
    (re.compile(rf"\b({_NUM})\s+B\b(?!-)"), r"\1B"),  # 70 B → 70B
    (re.compile(rf"\b({_NUM})\s+([KMT])\b(?=-|\s+(?:{COUNTED})\b|\s*[,.;:)]|\s*$)"), r"\1\2"),  # 8 K tokens
    (re.compile(rf"\b({_NUM})\s+gigs?\b", re.IGNORECASE), r"\1 GB"),
]
# Homophones a recogniser writes for parts of domain terms; used only inside a phrase that
# then spells one of the course's terms, never on their own.
SOUNDS_LIKE = {"cash": "cache", "cashe": "cache", "laura": "lora", "lorra": "lora", "cue": "q",
               "queue": "q", "kay": "k", "vee": "v", "gee": "g", "eff": "f", "pee": "p",
               "keyvalue": "kv", "key": "k", "value": "v", "db": "gb"}  # "140 dB" where GB is a term
# Letter names that rhyme, which a recogniser confuses when an acronym is spelled out.
RHYMES = {letter: n for n, group in enumerate(["BCDEGPTVZ", "FLMNSX", "AHJK", "IY", "O", "QUW", "R"])
          for letter in group}
_ACRONYM = re.compile(r"[A-Z]{3,5}")
LONG = 7  # letters: a word this long one letter off a term is a misspelling of it
_WORD = re.compile(r"[A-Za-z0-9]+")
_GLUE = re.compile(r"[\s\-.]*")  # what may stand between the words of one spoken term
MAX_WORDS = 4


def written(text: str, terms: Sequence[str] = ()) -> str:
    """The transcript as a typist would have written it (see the module docstring)."""
    text = _digits(text)
    for pattern, replacement in _JOINS:
        text = pattern.sub(replacement, text)
    return _statements(_terms(text, terms)).strip()


AUXILIARY = ("is|are|was|were|am|do|does|did|can|could|will|would|should|shall|may|might|must|"
             "has|have|had|isn't|aren't|wasn't|weren't|don't|doesn't|didn't|can't|couldn't|"
             "won't|wouldn't|shouldn't|hasn't|haven't")
_ASKED = re.compile(rf"^\W*(?:(?:{AUXILIARY})\b|(?:what|why|how|when|where|which|who)\b(?:\W+\w+){{0,2}}\W+"
                    rf"(?:{AUXILIARY})\b)", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?]*\?")


def _statements(text: str) -> str:
    """Each sentence the recogniser ended with "?" ends with "." unless its words ask."""
    return _SENTENCE.sub(lambda m: m.group() if _ASKED.match(m.group()) else m.group()[:-1] + ".", text)


def _digits(text: str) -> str:
    from text_to_num import alpha2digit  # the voice extra; only spoken answers get here

    parts = _KEPT_WORDS.split(text)  # [text, kept, text, …]: "billions" is no amount, "1000000000s"
    text = "".join(part if n % 2 else alpha2digit(part, "en") for n, part in enumerate(parts))
    text = _SMALL_NUMBER.sub(lambda m: SMALL[m.group(1).lower()], text)
    return _AFTER_TIMES.sub(lambda m: SMALL[(m.group(1) or m.group(2)).lower()], text)


def _squash(words: Sequence[str]) -> str:
    return "".join(SOUNDS_LIKE.get(w.lower(), w.lower()) for w in words)


def _terms(text: str, terms: Sequence[str]) -> str:
    """Replace each run of 1–4 words that spells a term (spaces, hyphens, dots and sound-alikes
    aside) by the term, longest run first."""
    wanted = {_squash(_WORD.findall(t)): t for t in terms if _WORD.search(t)}
    if not wanted:
        return text
    rhymes = _rhyming(terms)
    words = list(_WORD.finditer(text))
    out, last, i = [], 0, 0
    while i < len(words):
        for n in range(min(MAX_WORDS, len(words) - i), 0, -1):
            run = words[i:i + n]
            term = wanted.get(_squash([m.group() for m in run]))
            if term is None and n == 1:
                term = _near(run[0].group(), rhymes, terms)
            if term and _glued(text, run):
                out += [text[last:run[0].start()], term]
                last, i = run[-1].end(), i + n
                break
        else:
            i += 1
    return "".join(out) + text[last:]


def _near(word: str, rhymes: dict[tuple[int, ...], str], terms: Sequence[str]) -> str | None:
    """The one term `word` is a misheard spelling of: an acronym that rhymes letter by letter,
    or a long word one letter off (same length). None when no term or several fit."""
    if _ACRONYM.fullmatch(word):
        return rhymes.get(_rhyme(word))
    if len(word) < LONG or not word.isalpha():
        return None
    lower = word.lower()
    close = {t for t in terms if len(t) == len(word) and t.isalpha()
             and sum(a != b for a, b in zip(t.lower(), lower, strict=True)) == 1}
    return close.pop() if len(close) == 1 else None


def _rhyme(acronym: str) -> tuple[int, ...]:
    return tuple(RHYMES[letter] for letter in acronym)


def _rhyming(terms: Sequence[str]) -> dict[tuple[int, ...], str]:
    """The course's acronyms by how they sound letter by letter; a sound two terms share is
    left out (neither may be guessed)."""
    found: dict[tuple[int, ...], str | None] = {}
    for term in filter(_ACRONYM.fullmatch, terms):
        key = _rhyme(term)
        found[key] = None if key in found and found[key] != term else term
    return {key: term for key, term in found.items() if term}


def _glued(text: str, run: Sequence[re.Match[str]]) -> bool:
    """The words of a run are one phrase: nothing but spaces, hyphens or dots between them."""
    return all(_GLUE.fullmatch(text[a.end():b.start()]) for a, b in zip(run, run[1:], strict=False))
