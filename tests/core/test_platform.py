import os
import subprocess
import sys

import pytest
from django.conf import settings


@pytest.mark.django_db
class TestHealthAndPortals:
    def test_healthz_checks_database_and_broker(self, client):
        response = client.get("/healthz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok" and body["database"] == "ok" and body["broker"] == "ok"

    @pytest.mark.parametrize(("url", "login"), [("/enterprise/", "/enterprise/login/"), ("/m/", "/m/login/"),
                                                ("/ops/", "/ops/login/")])
    def test_portals_lead_to_their_login_pages(self, client, url, login):
        response = client.get(url, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0].startswith(login)

    def test_pages_are_chinese_by_default_and_english_on_request(self, client):
        assert "企业用户登录" in client.get("/enterprise/login/").content.decode()
        client.post("/i18n/setlang/", {"language": "en", "next": "/enterprise/login/"})
        page = client.get("/enterprise/login/").content.decode()
        assert "Enterprise sign-in" in page and "企业用户登录" not in page

    def test_mobile_pages_declare_a_phone_viewport(self, client):
        assert 'name="viewport"' in client.get("/m/login/").content.decode()

    def test_openapi_schema_is_served(self, client):
        response = client.get("/api/schema/")
        assert response.status_code == 200 and b"openapi" in response.content


def _start_in_production(extra_env: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LINGGONG_"))}
    env.update({"LINGGONG_ENV": "production", "DJANGO_SETTINGS_MODULE": "config.settings", **extra_env})
    return subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=60)


class TestProductionRefusesMissingKeys:
    def test_without_keys_it_says_what_to_set(self):
        result = _start_in_production({})
        assert result.returncode != 0
        for name in ("DJANGO_SECRET_KEY", "LINGGONG_PII_KEYS", "LINGGONG_BLIND_INDEX_KEY"):
            assert name in result.stderr

    def test_with_real_keys_it_starts(self):
        result = _start_in_production({
            "DJANGO_SECRET_KEY": "x" * 50, "LINGGONG_PII_KEYS": "k1:" + "A" * 43 + "=",
            "LINGGONG_BLIND_INDEX_KEY": "b" * 40, "DJANGO_ALLOWED_HOSTS": "linggong.example",
        })
        assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_an_english_browser_still_gets_chinese_until_english_is_chosen(client):
    page = client.get("/enterprise/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "企业用户登录" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"}, HTTP_ACCEPT_LANGUAGE="en-US")
    assert "Enterprise sign-in" in client.get("/enterprise/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "企业用户登录" in client.get("/enterprise/login/").content.decode()


@pytest.mark.django_db
def test_money_fields_are_decimal_strings_in_the_openapi_schema(client):
    import json

    schema = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    money_fields = [prop for component in schema["components"]["schemas"].values()
                    for prop in component.get("properties", {}).values() if prop.get("example") == "1234.56"]
    assert money_fields, "no YuanAmountField found in the schema"
    assert all(prop["type"] == "string" and "pattern" in prop for prop in money_fields)
