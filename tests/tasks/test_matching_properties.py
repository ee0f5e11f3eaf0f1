from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tasks import geo, matching
from tasks.models import Task

SKILLS = st.lists(st.sampled_from(["骑行", "送餐", "搬运", "标注", "普通话"]), max_size=5, unique=True)
COORD = st.tuples(st.decimals(min_value=18, max_value=53, places=6), st.decimals(min_value=73, max_value=135, places=6))


@settings(max_examples=200, deadline=None)
@given(task_skills=SKILLS, worker_skills=SKILLS, place=COORD, location=st.one_of(st.none(), COORD),
       remote=st.booleans(), stars=st.one_of(st.none(), st.decimals(min_value=1, max_value=5, places=1)),
       history=st.integers(min_value=0, max_value=50), radius=st.integers(min_value=50, max_value=50_000))
def test_score_is_within_0_and_100_and_its_reasons_add_up(task_skills, worker_skills, place, location, remote, stars,
                                                          history, radius):
    task = Task(skills=task_skills, is_remote=remote, latitude=place[0], longitude=place[1], radius_m=radius)

    first = matching.score(task=task, skills=worker_skills, location=location, rating=(stars, 1 if stars else 0),
                           rating_of="人员", accepted_with_merchant=history)
    again = matching.score(task=task, skills=worker_skills, location=location, rating=(stars, 1 if stars else 0),
                           rating_of="人员", accepted_with_merchant=history)

    assert 0 <= first.score <= 100
    assert (first.score, first.reasons) == (again.score, again.reasons)
    assert first.score == sum(int(reason.rsplit("+", 1)[1]) for reason in first.reasons)


@given(a=COORD, b=COORD)
def test_distance_is_symmetric_and_zero_to_itself(a, b):
    assert geo.distance_m(*a, *b) == geo.distance_m(*b, *a)
    assert geo.distance_m(*a, *a) == 0


def test_known_distance_beijing_to_tianjin():
    beijing, tianjin = geo.CITY_CENTRES["北京"], geo.CITY_CENTRES["天津"]
    assert 105_000 < geo.distance_m(*beijing, *tianjin) < 115_000
    assert geo.format_distance(1500) == "1.5 公里" and geo.format_distance(Decimal(999)) == "999 米"
