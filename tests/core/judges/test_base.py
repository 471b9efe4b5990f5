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
