"""AWS errors become one readable line, whatever the endpoint answered."""

from botocore.exceptions import ClientError

from warroom.aws.session import explain


def test_an_html_error_page_is_reduced_to_its_title() -> None:
    page = ("<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
            "<h1>Internal Server Error</h1><p>The server encountered an internal error.</p>")
    exc = ClientError({"Error": {"Code": "500", "Message": page}}, "GetMetricData")
    assert explain(exc) == "500: the endpoint answered: 500 Internal Server Error"


def test_credential_errors_name_the_fix() -> None:
    exc = ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "GetCallerIdentity")
    assert "have expired" in explain(exc) and "\n" not in explain(exc)
