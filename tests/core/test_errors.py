"""The one wording of a validation error, shared by every file a user writes."""

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from tutor.core.errors import first_problem


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    weight: float


class Rubric(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key_points: list[Point]


@pytest.mark.parametrize(("line", "expected"), [
    ('{"key_points": [{"id": "a", "weight": "heavy"}]}',
     "key_points[0].weight: Input should be a valid number"),
    ('{"key_points": [{"id": "a", "weight": 1, "wieght": 2}]}',
     "key_points[0].wieght: unknown key 'wieght' (check the spelling)"),
    ('{"key_points": [{"weight": 1}]}', "key_points[0].id: required field is missing"),
    ('["not", "an", "object"]', "Input should be an object"),
])
def test_the_first_problem_names_the_field_as_the_user_writes_it(line: str, expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Rubric.model_validate_json(line)
    assert first_problem(caught.value).startswith(expected)
