import pytest

from accounts.models import User


@pytest.mark.django_db
def test_any_lookup_matches_in_on_every_database():
    users = [User.objects.create_user(f"any{i}", "pw-Secret-123") for i in range(5)]
    ids = [u.pk for u in users[:3]]
    assert set(User.objects.filter(pk__any=ids).values_list("pk", flat=True)) == set(ids)
    assert set(User.objects.filter(username__any=["any1", "any4", "nobody"]).values_list("username", flat=True)) == {
        "any1", "any4"}
    assert not User.objects.filter(pk__any=[]).exists()
    assert User.objects.exclude(pk__any=ids).filter(username__startswith="any").count() == 2


@pytest.mark.django_db
def test_any_lookup_on_a_foreign_key():
    from django.contrib.auth.models import Group

    users = [User.objects.create_user(f"fk{i}", "pw-Secret-123") for i in range(3)]
    group = Group.objects.create(name="g")
    users[0].groups.add(group)
    assert list(User.groups.through.objects.filter(user_id__any=[users[0].pk]).values_list("group_id", flat=True)) == [
        group.pk]
    assert list(User.groups.through.objects.filter(user__any=[users[0].pk, users[1].pk]).values_list(
        "user_id", flat=True)) == [users[0].pk]
