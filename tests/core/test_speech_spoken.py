"""A transcript in the written form the numeric checks and the judge read."""

import pytest

from tutor.core.answer import prepare
from tutor.core.course import bundled_course
from tutor.core.numeric import extract_quantities
from tutor.core.speech import hints, written

pytestmark = pytest.mark.speech

TERMS = bundled_course().info.speech_terms


@pytest.mark.parametrize(("heard", "expected"), [
    ("a seventy B model", "a 70B model"),
    ("a 70 B model", "a 70B model"),
    ("stored in fp sixteen", "stored in fp16"),
    ("FP16 and BF-16", "fp16 and bf16"),
    ("two bytes per parameter", "2 bytes per parameter"),
    ("about one hundred and forty gigabytes", "about 140 gigabytes"),
    ("seventy billion parameters", "70 billion parameters"),
    ("a 70-billion-parameter model", "a 70 billion-parameter model"),
    ("about 100, and 40 gigabytes", "about 140 gigabytes"),
    ("about 100 and 40GB", "about 140GB"),
    ("100 and 4.5 GB", "100 and 4.5 GB"),
    ("one hundred thirty one thousand and seventy two", "131072"),
    ("one point four e eleven bytes", "1.4e11 bytes"),
    ("one point four times ten to the eleven bytes", "1.4 × 10^11 bytes"),
    ("two times eighty times eight", "2 × 80 × 8"),
    ("an eight K context", "an 8K context"),
    ("int four weights", "int4 weights"),
])
def test_spoken_numbers_and_units_are_written_as_typed(heard, expected):
    assert written(heard, TERMS) == expected


@pytest.mark.parametrize(("heard", "expected"), [
    ("the KV cash grows with every token", "the KV cache grows with every token"),
    ("the key value cache", "the KV cache"),
    ("G Q A shares heads", "GQA shares heads"),
    ("Q Laura combines two ideas", "QLoRA combines two ideas"),
    ("paged attention borrows paging", "PagedAttention borrows paging"),
    ("pre-fill is compute bound", "prefill is compute bound"),
    ("it needs 140 dB of memory", "it needs 140 GB of memory"),
    ("DQA is the middle ground", "GQA is the middle ground"),  # D and G rhyme; only GQA fits
    ("precision comes from the mentissa", "precision comes from the mantissa"),
    ("int4 quantination", "int4 quantization"),
])
def test_misheard_domain_terms_are_spelled_as_the_course_spells_them(heard, expected):
    assert written(heard, TERMS) == expected


@pytest.mark.parametrize("heard", [
    "I paid cash",  # a sound-alike alone is left alone
    "two K and V tensors",  # K is a letter here, not a thousand
    "a CPU, a TPU or a GPU",  # real terms that rhyme: none is guessed
    "MQA and DPO",
    "the exponents and the mantissas",  # a plural is not a misspelling
    "a quantized model",
    "so just double the billions",  # a plural scale is no amount: not "1000000000"
    "hundreds of GB across millions of users",  # not "100 of GB" (a number the check would read)
])
def test_what_is_not_a_misheard_term_is_unchanged(heard):
    assert written(heard, TERMS) == heard


def test_without_course_terms_only_numbers_change():
    assert written("the KV cash of a seventy B model") == "the KV cash of a 70B model"


def test_the_numeric_checks_read_a_spoken_answer_like_a_typed_one():
    spoken = written("A seventy B model in fp sixteen needs one hundred and forty gigabytes", TERMS)
    typed = "A 70B model in fp16 needs 140 GB"
    assert [(f.quantity.to_base_units().magnitude, f.kind) for f in extract_quantities(spoken)] == \
        [(f.quantity.to_base_units().magnitude, f.kind) for f in extract_quantities(typed)]


def test_hints_keep_each_term_once_in_order():
    assert hints([" GQA", "MQA", "GQA", "", "KV cache"]) == ("GQA", "MQA", "KV cache")


@pytest.mark.parametrize("heard, graded", [
    # a statement said with a rising voice: the recogniser's "?" is not the learner's
    ("Because what matters is its product with the activation?",
     "Because what matters is its product with the activation."),
    ("They own the budget, and what happens when we OOM at peak?",
     "They own the budget, and what happens when we OOM at peak."),
    # words that ask stay a question, and a question asserts nothing
    ("Isn't the KV cache what grows?", "Isn't the KV cache what grows?"),
    ("Is it 140 GB or 70 GB?", "Is it 140 GB or 70 GB?"),
    ("How many bytes is fp16? Two.", "How many bytes is fp16? Two."),
    ("Why does GQA help? It shares KV heads.", "Why does GQA help? It shares KV heads."),
])
def test_a_question_mark_stays_only_where_the_words_ask(heard, graded):
    assert written(heard) == graded


def test_a_statement_heard_as_a_question_is_graded_as_a_statement():
    heard = "The KV cache grows with the context length?"
    assert prepare(heard).contentless  # as typed, a question: nothing asserted
    assert not prepare(written(heard)).contentless
