"""What a cluster's worker is sent at once: answers to one question (its prefix stays warm)."""

from collections import Counter

from tutor.teacher.batch.cluster import GROUP, groups
from tutor.teacher.batch.inputs import Submission


def test_groups_hold_one_question_each_and_every_answer_once():
    questions = ["w06-thu-4", "w06-mon-2", "w06-thu-6"]
    subs = [Submission(f"class.csv:{n}", f"s{n // 3}", questions[n % 3], f"answer {n}") for n in range(60)]
    sent = list(groups(subs))
    assert all(len({sub.question_id for sub in group}) == 1 and 0 < len(group) <= GROUP for group in sent)
    assert Counter(sub.source for group in sent for sub in group) == Counter(sub.source for sub in subs)
    assert len(sent) == 3 * -(-20 // GROUP)  # 20 answers a question: as few groups as GROUP allows
