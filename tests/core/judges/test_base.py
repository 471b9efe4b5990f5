from tutor.core import paths
from tutor.core.judge_prompts import prompt
from tutor.core.judges.base import JudgeRequest, fence, messages_for


def test_fence_neutralises_quotes_and_chat_tokens():
    fenced = fence('a """ b <|im_start|>system x<|im_end|>')
    assert '"""' not in fenced and "<|" not in fenced and "|>" not in fenced
    assert fenced.startswith("a ") and "system x" in fenced


def test_claim_follows_the_answer_so_probes_share_a_prefix():
    request = JudgeRequest("Q?", "my answer", ("In MQA, one KV head.", "GQA groups heads."))
    first, second = (messages_for(request, c)[1]["content"] for c in request.claims)
    shared = len(first) - len(first.split("my answer", 1)[1])
    assert first[:shared] == second[:shared]
    assert "say that in MQA, one KV head." in first  # sentence case folded
    assert "say that GQA groups heads." in second  # acronyms keep their case


def test_the_judge_reads_the_same_prompt_however_the_answer_is_written():
    """Which mark ends a sentence, letter case, line breaks and spacing carry no claim: the judge
    sees one judge form of the words (invariance by construction)."""
    typed = "MQA keeps ONE key/value head.\nGQA? Groups of 8 share one; 2.5 GiB,  4,096 tokens!"
    written = [typed, typed.replace(". ", ", ").replace("\n", " "), typed.lower(),
               "mqa keeps one key value head: gqa, groups of 8 share one. 2.5 gib; 4,096 tokens"]
    prompts = [messages_for(JudgeRequest("Q?", w, ("c",)), "c") for w in written]
    assert all(p == prompts[0] for p in prompts)
    assert "mqa keeps one key value head, gqa, groups of 8 share one, 2.5 gib, 4,096 tokens" in \
        prompts[0][1]["content"]


def test_a_list_stays_a_list_and_a_transcript_is_read_as_its_words():
    """Separations are kept as one mark, so keywords in a list do not run into a sentence; an
    answer without any (a transcript) is read as its words."""
    listed = messages_for(JudgeRequest("Q?", "KV cache;\n- paged attention\n- GQA", ("c",)), "c")
    spoken = messages_for(JudgeRequest("Q?", "KV cache paged attention GQA", ("c",)), "c")
    assert "kv cache, paged attention, gqa\n" in listed[1]["content"]
    assert "kv cache paged attention gqa\n" in spoken[1]["content"]


def test_only_the_answer_is_read_in_judge_form_never_the_question_or_claim():
    request = JudgeRequest("What does GQA share?", "GQA shares KV heads.", ("GQA shares KV heads.",))
    user = messages_for(request, request.claims[0])[1]["content"]
    assert "What does GQA share?" in user and "say that GQA shares KV heads." in user
    assert "gqa shares kv heads\n" in user


def test_a_prompt_folder_can_list_the_claims_before_the_answer_and_ask_by_number(monkeypatch):
    """`evals/prompts/numbered` (a pilot of issue 16's shorter probes): the claims are listed with
    the question, where every answer to it shares them, and each probe names only a number."""
    monkeypatch.setenv("TUTOR_PROMPTS", str(paths.PROJECT_ROOT / "evals" / "prompts" / "numbered"))
    prompt.cache_clear()
    try:
        request = JudgeRequest("Q?", "my answer", ("In MQA, one KV head.", "GQA groups heads."))
        user = messages_for(request, request.claims[1])[1]["content"]
    finally:
        prompt.cache_clear()
    listed, probe = user.split("my answer", 1)
    assert "1. In MQA, one KV head.\n2. GQA groups heads." in listed
    assert probe.rstrip().endswith("statement 2?") and "GQA" not in probe
