"""Secrets are masked by shape and by field, hostile lines stay linear, invisible characters
are escaped, and steps that run unasked may not read secrets."""

from __future__ import annotations

import textwrap
import unicodedata
from pathlib import Path

import pytest

from warroom.aws.service_model import check_call
from warroom.incident.audit import AuditLog
from warroom.playbook import model
from warroom.playbook.loader import load_text
from warroom.redact import may_hold_secrets, redact
from warroom.runner import Runner
from warroom.runner.masking import MASK, Masker
from warroom.textout import UNSAFE, dumps, inert

from tests.runner_support import ScriptedUser, boto, seed_function, session
from tests.runner_support import playbook as builtin_playbook

CORPUS = Path(__file__).parent / "corpus" / "ordinary"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
       "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")

# (log line, the secret in it): every shape the console, tail, scan and the audit mask.
SHAPES = [
    (f"boto: secret_access_key={AWS_SECRET} loaded", AWS_SECRET),
    (f'AWS_SECRET_ACCESS_KEY="{AWS_SECRET}"', AWS_SECRET),
    (f"export aws_secret_access_key='{AWS_SECRET}'", AWS_SECRET),
    (f'{{"AccessKeyId": "x", "SecretAccessKey": "{AWS_SECRET}"}}', AWS_SECRET),
    (f"  aws_secret_access_key: {AWS_SECRET}", AWS_SECRET),
    (f"$ aws configure set aws_secret_access_key {AWS_SECRET}", AWS_SECRET),
    (f"run --aws-secret-access-key {AWS_SECRET} --region x", AWS_SECRET),
    ("config key_AKIAIOSFODNN7EXAMPLE in use", "IOSFODNN7EXAMPLE"),
    ("id=xAKIAIOSFODNN7EXAMPLE.", "IOSFODNN7EXAMPLE"),
    ('{"user":"bob","password":"Tr0ub4dor&3x"}', "Tr0ub4dor&3x"),
    ("{'passwd': 'c0rrect-h0rse', 'n': 1}", "c0rrect-h0rse"),
    ('{"x-api-key": "k9f8e7d6c5b4a"}', "k9f8e7d6c5b4a"),
    ('{"client_secret":"csZq81xLmP0w"}', "csZq81xLmP0w"),
    ('{"token": "tkn-9Vx2Lq7Rw"}', "tkn-9Vx2Lq7Rw"),
    ('body="{\\"password\\":\\"Esc4ped-Pw\\"}"', "Esc4ped-Pw"),
    ("login failed password=Hunt3r2Hunt3r2 user=bob", "Hunt3r2Hunt3r2"),
    ("GET /cb?code=1&token=tk8a7b6c5d4e3f&x=1", "tk8a7b6c5d4e3f"),
    ("db pwd=s3cr3tpwd99 host=db", "s3cr3tpwd99"),
    ("docker login --password Pa55-w0rd-Dock3r --username u", "Pa55-w0rd-Dock3r"),
    (f"request headers: Authorization: Bearer {JWT}", JWT),
    ("Authorization: Basic dXNlcjpQNHNzdzByZA==", "dXNlcjpQNHNzdzByZA=="),
    (f"session cookie {JWT}; Path=/", JWT),
    ("token github_pat_11AAAAAAA0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789abcdefghijkl",
     "11AAAAAAA0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789abcdefghijkl"),
    ("gho_16C7e42F292c6912E7710c838347Ae178B4a used", "16C7e42F292c6912E7710c838347Ae178B4a"),
    ("GH_TOKEN:ghs_16C7e42F292c6912E7710c838347Ae178B4a", "16C7e42F292c6912E7710c838347Ae178B4a"),
    ("slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
     "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
    ("slack xoxp-2222222222-333333333333-PqRsTuVwXy", "2222222222-333333333333-PqRsTuVwXy"),
    ("key=-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bqRsa\nQ29sZGVyS2V5\n"
     "-----END RSA PRIVATE KEY-----",
     "MIIEowIBAAKCAQEA7bqRsa"),
    ('{"pem": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG\\n-----END PRIVATE KEY-----\\n"}',
     "MIIEvQIBADANBgkqhkiG"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAA\\n-----END OPENSSH PRIVATE KEY-----",
     "b3BlbnNzaC1rZXktdjEAAAAA"),
    ("cloning https://deploy:P4ssw0rdInUrl@git.example.com/repo.git", "P4ssw0rdInUrl"),
    ("fatal: https://x-access-token:ghs_shortTok3n@github.com/o/r", "ghs_shortTok3n"),
    # A pagination cursor before a secret hides nothing after it.
    ("GET /items?next_token=abc&password=hunter2hunter2 200", "hunter2hunter2"),
    ('{"nextToken": "f/3741", "SecretString": "s3cr3t-value"}', "s3cr3t-value"),
]

# Lines that look a little like secrets and are not: nothing changes.
ORDINARY = [
    "Invalid token provided", "usage: input_tokens=1234 max_tokens: 10", "PWD=/home/ec2-user OLDPWD=/tmp",
    "GET http://localhost:8080/a@b 200", "AKIAIOSFODNN7EXAMPLEX is not an id", "basic auth is off",
    "bearer token missing", "the secret access key is wrong", '{"passwordLastUsed": "2024-01-01"}',
    "eyJhbGciOiJIUzI1NiJ9 alone", "ghp_short", "naïve café ✓ 日本語",
    # Shell syntax in a command is what runs: a mask must never hide it.
    "git push https://x-access-token:$(touch${IFS}/tmp/x)@github.com/o/r",
    "git push https://x-access-token:`id`@github.com/o/r", "https://u:$(id)@example.com",
    "export PASSWORD=$(aws secretsmanager get-secret-value --secret-id db)",
    'mysql --password "$DB_PASSWORD" -u app', "curl -d token=`cat token.txt` https://h",
    # Pagination cursors are not credentials.
    '{"nextToken": "f/37419227462553812345678901234567890", "events": []}',
    '"nextForwardToken": "f/3741922746255381234567890123456789012345678901234567"',
    'Putting logs was successful. next_token=Some("496283484933798266174xxxxxxxxxxxxxxxxxxxxxxxx")',
    "aws logs describe-log-groups --next-token eyJ2IjoxfQ== --max-items 5 NextToken=AbCdEf0123456789AbCdEf",
]


@pytest.mark.parametrize(("line", "secret"), SHAPES, ids=range(len(SHAPES)))
def test_each_shape_is_masked_keeping_the_length(line: str, secret: str) -> None:
    masked = redact(line)
    assert secret not in masked and len(masked) == len(line)
    assert "*" * len(secret) in masked
    # The batch check used by `tail` sees it among other lines too.
    assert may_hold_secrets(f"START RequestId: 1\n{line}\nEND RequestId: 1")


def test_ordinary_lines_and_near_misses_are_left_alone() -> None:
    corpus = [line for path in sorted(CORPUS.iterdir())
              for line in path.read_text(errors="replace").splitlines()]
    assert [line for line in ORDINARY + corpus if redact(line) != line] == []
    assert not may_hold_secrets("\n".join(corpus))


HOSTILE_SIZE = 256 * 1024


# (unit, period in units): a hostile line repeats the unit to 256 KiB; the masked line must
# be the masked period repeated. Near misses (period 1, unchanged) are the candidate starts
# that rescan a long run in a backtracking engine.
@pytest.mark.parametrize(("unit", "period"), [
    ("ghp_", 1), ("ghp_" + "a" * 29 + " ", 1), ("github_pat_" + "a" * 21 + " ", 1),
    ("xoxb-" + "a" * 9 + " ", 1), ("Bearer " + "a" * 15 + " ", 1), ("x-access-token:", 1),
    ("://a:", 1), ("eyJ", 1), ("AKIAIOSFODNN7EXAMPLEX", 1), ("token ", 1), ("--password ", 1),
    ("aws_secret_access_key ", 1), ("-----BEGIN PRIVATE KEY---- ", 1), ("\\", 1), ('"', 1), ("-", 1),
    ("eyJa.", 3), ('"password":', 2), ('\\"password\\":\\"', 1),
    ("Authorization: Bearer ", 2), ("-----BEGIN PRIVATE KEY-----", 1),
])
def test_hostile_256k_lines_give_the_masked_period_repeated(unit: str, period: int) -> None:
    block = unit * period
    count = HOSTILE_SIZE // len(block) + 1
    expected = redact(block) * count
    assert redact(block * count) == expected
    if expected != block * count:
        assert may_hold_secrets(block * count)


def test_an_id_is_found_at_the_end_of_a_run_of_kinds() -> None:
    line = "AKIA" * (HOSTILE_SIZE // 4)
    assert redact(line) == line[:-16] + "*" * 16


def test_a_256k_secret_is_masked_whole() -> None:
    body = "A" * HOSTILE_SIZE
    for line in (f'{{"password": "{body}"}}', f"-----BEGIN PRIVATE KEY-----{body}",
                 f"https://u:{body}@h", f"ghp_{body}", "github_pat_" * (HOSTILE_SIZE // 11),
                 "password=" * (HOSTILE_SIZE // 9)):
        masked = redact(line)
        assert len(masked) == len(line) and "*" * (HOSTILE_SIZE - 40) in masked


# -- invisible characters ------------------------------------------------------------------


def test_unsafe_covers_every_control_format_and_separator_character() -> None:
    kinds = {"Cc", "Cf", "Zl", "Zp", "Cs"}
    missed = [hex(c) for c in range(0x110000)
              if unicodedata.category(chr(c)) in kinds and chr(c) != "\t" and not UNSAFE.match(chr(c))]
    assert missed == []
    assert UNSAFE.search("plain text, tab\tand café 日本 ✓") is None


def test_bidi_and_zero_width_characters_print_as_escapes() -> None:
    hostile = "ok\u202egnp.exe\u2066x\u2069\u200b\u200d\u2060\ufeff\U000e0041\u00ad"
    shown = inert(hostile)
    assert shown == "ok\\u202egnp.exe\\u2066x\\u2069\\u200b\\u200d\\u2060\\ufeff\\U000e0041\\xad"
    assert UNSAFE.search(shown) is None
    encoded = dumps({"m": hostile})
    assert UNSAFE.search(encoded) is None and "\\u202e" in encoded and "\\udb40\\udc41" in encoded


def test_the_console_escapes_the_same_characters() -> None:
    from warroom.tui.lines import sanitize

    hostile = "a\u202eb\u200bc\U000e0041d"
    assert sanitize(hostile)[0] == inert(hostile)


# -- steps that run unasked may not read secrets --------------------------------------------

PLAYBOOK = textwrap.dedent("""\
    id: reads-secrets
    title: Reads secrets
    service: secretsmanager
    severity: high
    sources: [{file: guide.md, section: A}]
    symptoms:
      - pattern: 'secret (?P<secret>\\S+) is wrong'
    cause: x
    prevention: y
    diagnose:
      - title: step
        call: CALL
        params: PARAMS
    fix:
      - title: f
        manual: m
    """)


def call_problems(call: str, params: str) -> list[str]:
    _, problems = load_text(PLAYBOOK.replace("CALL", call).replace("PARAMS", params), "pb.yaml",
                            check_call)
    return [str(p) for p in problems if p.field == "diagnose[0].call"]


@pytest.mark.parametrize(("call", "params"), [
    ("secretsmanager.get_secret_value", "{SecretId: '{secret}'}"),
    ("secretsmanager.batch_get_secret_value", "{SecretIdList: ['{secret}']}"),
    ("ssm.get_parameter", "{Name: /app/db, WithDecryption: true}"),
    ("ssm.get_parameters", "{Names: [/app/db], WithDecryption: '{secret}'}"),
    ("ssm.get_parameters_by_path", "{Path: /app, WithDecryption: true}"),
    ("kms.decrypt", "{CiphertextBlob: abc}"),
    ("ecr.get_authorization_token", "{}"),
    ("sts.get_session_token", "{}"),
    ("sts.assume_role", "{RoleArn: 'arn:aws:iam::123456789012:role/r', RoleSessionName: s}"),
    ("iam.create_access_key", "{UserName: u}"),
    ("lambda.get_function", "{FunctionName: f}"),
])
def test_diagnose_may_not_call_what_returns_secrets(call: str, params: str) -> None:
    (problem,) = call_problems(call, params)
    assert problem.startswith("pb.yaml:12: diagnose[0].call: diagnose steps may not read secrets: "
                              f"{call} ")


@pytest.mark.parametrize(("call", "params"), [
    ("ssm.get_parameter", "{Name: /app/db}"),
    ("ssm.get_parameter", "{Name: /app/db, WithDecryption: false}"),
    ("secretsmanager.describe_secret", "{SecretId: '{secret}'}"),
    ("secretsmanager.list_secret_version_ids", "{SecretId: '{secret}'}"),
    ("lambda.get_function_configuration", "{FunctionName: f}"),
])
def test_metadata_calls_are_allowed(call: str, params: str) -> None:
    assert call_problems(call, params) == []


def test_test_operations_count_as_mutating() -> None:
    assert not model.is_read_only_operation("test_invoke_method")
    (problem,) = call_problems("apigateway.test_invoke_method",
                               "{restApiId: a, resourceId: b, httpMethod: GET}")
    assert problem.endswith("diagnose steps must be read-only calls (Get/List/Describe/...)")


def test_a_verify_call_may_not_read_secrets_either() -> None:
    text = PLAYBOOK.replace("diagnose:\n  - title: step\n    call: CALL\n    params: PARAMS\n", "").replace(
        "    manual: m\n", textwrap.indent(textwrap.dedent("""\
            call: secretsmanager.put_secret_value
            params: {SecretId: s, SecretString: v}
            verify:
              call: secretsmanager.get_secret_value
              params: {SecretId: s}
              expect: {SecretString: v}
        """), "    "))
    _, problems = load_text(text, "pb.yaml", check_call)
    assert [p.field for p in problems] == ["fix[0].verify.call"]
    assert "a verify call may not read secrets: secretsmanager.get_secret_value" in str(problems[0])


def test_builtin_playbooks_read_no_secrets() -> None:
    from warroom.playbook.catalog import load_catalog
    from warroom.playbook.secret_calls import secret_material

    for playbook in load_catalog([], check_call):
        for step in playbook.diagnose:
            if step.call:
                service, operation = step.call.split(".", 1)
                assert secret_material(service, operation, step.params) is None, (playbook.id, step.call)


# -- fix and verify responses -----------------------------------------------------------------


def test_a_secret_named_field_is_then_masked_wherever_its_value_shows() -> None:
    masker = Masker()
    shown = masker.value({"Name": "db", "SecretString": "correct horse battery",
                          "Parameter": {"Type": "SecureString", "Value": "pl41n-db-pass"},
                          "PasswordLastUsed": "2024-01-01", "NextToken": "n1"})
    assert shown == {"Name": "db", "SecretString": MASK, "Parameter": {"Type": "SecureString", "Value": MASK},
                     "PasswordLastUsed": "2024-01-01", "NextToken": "n1"}
    assert masker.text("echo correct horse battery; use pl41n-db-pass") == f"echo {MASK}; use {MASK}"


FIX_READS_SECRETS = textwrap.dedent("""\
    id: fix-reads-secrets
    title: A fix whose answers hold secrets
    service: secretsmanager
    severity: high
    sources: [{file: guide.md, section: A}]
    symptoms:
      - pattern: 'secret (?P<secret>\\S+) is wrong'
    cause: x
    prevention: y
    fix:
      - title: Take the deploy role
        call: sts.assume_role
        params: {RoleArn: 'arn:aws:iam::123456789012:role/deploy', RoleSessionName: warroom}
      - title: Read the secret
        call: secretsmanager.get_secret_value
        params: {SecretId: '{secret}'}
      - title: Read the parameter
        call: ssm.get_parameter
        params: {Name: /app/db-password, WithDecryption: true}
    """)


async def test_fix_responses_holding_secrets_are_masked_in_events_and_audit(moto, tmp_path: Path) -> None:
    boto(moto.endpoint, "secretsmanager").create_secret(Name="app/db", SecretString="correct horse battery")
    boto(moto.endpoint, "ssm").put_parameter(Name="/app/db-password", Value="pl41n-db-pass",
                                             Type="SecureString")
    playbook, problems = load_text(FIX_READS_SECRETS, "fix.yaml", check_call)
    assert playbook is not None, problems
    audit = tmp_path / "audit.jsonl"
    user = ScriptedUser(confirms=[True])
    async with session(moto.endpoint) as s:
        result = await Runner(playbook, user, s, values={"secret": "app/db"}, audit=AuditLog(audit)).run()
    assert [r.status for r in result.fix] == ["done", "done", "done"]
    creds = result.fix[0].result["Credentials"]
    assert creds["SecretAccessKey"] == MASK and creds["SessionToken"] == MASK
    assert creds["AccessKeyId"].startswith("ASIA") and creds["AccessKeyId"].endswith("*" * 16)
    assert result.fix[1].result["SecretString"] == MASK
    assert result.fix[2].result["Parameter"]["Value"] == MASK
    for text in (user.transcript(), audit.read_text()):
        assert "correct horse" not in text and "pl41n-db-pass" not in text


# -- probes ----------------------------------------------------------------------------------


async def test_secret_probes_answer_without_the_value(moto) -> None:
    from tests.test_probes import probe, probe_playbook

    sm = boto(moto.endpoint, "secretsmanager")
    sm.create_secret(Name="p-plain", SecretString="pw-hidden-1 not json")
    sm.create_secret(Name="p-deep", SecretString='{"password": "pw-hidden-2", "x": ' + "[" * 100_000)
    sm.create_secret(Name="p-binary", SecretBinary=b"\xffpw-hidden-3")
    sm.create_secret(Name="p-partial", SecretString='{"username": "pw-hidden-4"}')
    sm.create_secret(Name="p-placeholder", SecretString="changeme")
    found, warnings = await probe(
        moto, probe_playbook("j", "secret-invalid-json", {"secret": "p-*", "keys": ["username", "password"]}),
        probe_playbook("e", "secret-empty", {"secret": "p-*"}))
    said = {f.resource: f.evidence for f in found}
    assert said["p-plain"] == "secret p-plain is not valid JSON (line 1 column 1)"
    assert said["p-partial"] == "secret p-partial lacks password"
    assert said["p-placeholder"] == "secret p-placeholder holds a placeholder, not a real value"
    assert warnings == ["secret p-deep: nested too deeply to check its JSON"]
    everything = repr(found) + repr(warnings)
    assert "pw-hidden" not in everything and "changeme" not in everything


# -- Lambda environment variables -------------------------------------------------------------

ENV = {"DB_PASSWORD": "hunter2-db-pass", "API_KEY": "k-8f7e6d5c4b3a", "LOG_LEVEL": "debug-level-x"}


def test_environment_variables_show_names_only() -> None:
    masker = Masker()
    response = {"FunctionName": "f", "Environment": {"Variables": {**ENV, "EMPTY": ""}}}
    assert masker.value(response) == {"FunctionName": "f", "Environment": {"Variables": {
        "DB_PASSWORD": MASK, "API_KEY": MASK, "LOG_LEVEL": MASK, "EMPTY": ""}}}
    # get_function nests it; a `show:` path names it in one key; plans mask it too.
    assert masker.value({"Configuration": response})["Configuration"] == masker.value(response)
    assert masker.value({"Environment.Variables": ENV, "Environment.Variables.LOG_LEVEL": "debug-level-x"},
                        keys=False) == {"Environment.Variables": dict.fromkeys(ENV, MASK),
                                        "Environment.Variables.LOG_LEVEL": MASK}
    # Once seen, the same variables captured under another name are masked too.
    assert masker.value({"current_vars": {**ENV, "NEW": "v"}}) == {
        "current_vars": {**dict.fromkeys(ENV, MASK), "NEW": "v"}}
    assert masker.text("level debug-level-x") == "level debug-level-x"  # values are not words to hunt


async def test_adding_a_variable_keeps_the_others_and_shows_no_value(moto, tmp_path: Path) -> None:
    seed_function(moto.endpoint, "env-fn")
    boto(moto.endpoint, "lambda").update_function_configuration(
        FunctionName="env-fn", Environment={"Variables": ENV})
    audit = tmp_path / "audit.jsonl"
    user = ScriptedUser(inputs={"value": ["locks-v2"]}, confirms=[True], manual=[True])
    async with session(moto.endpoint) as s:
        result = await Runner(builtin_playbook("lambda-env-var-missing"), user, s, audit=AuditLog(audit),
                              values={"function": "env-fn", "variable": "LOCKS_TABLE_NAME"},
                              explicit={"function", "variable"}, poll_interval=0.05).run()
    assert [r.status for r in result.fix] == ["done", "done"]
    real = boto(moto.endpoint, "lambda").get_function_configuration(FunctionName="env-fn")
    assert real["Environment"]["Variables"] == {**ENV, "LOCKS_TABLE_NAME": "locks-v2"}
    [diagnosed] = [e for e in user.events if e.kind == "diagnosed"]
    assert diagnosed.data["shown"]["Environment.Variables"] == dict.fromkeys(ENV, MASK)
    assert diagnosed.data["captured"] == {"current_vars": dict.fromkeys(ENV, MASK)}
    confirmed = user.plans[0]
    assert confirmed.params["Environment"]["Variables"] == dict.fromkeys([*ENV, "LOCKS_TABLE_NAME"], MASK)
    assert result.fix[0].result["Environment"]["Variables"] == dict.fromkeys([*ENV, "LOCKS_TABLE_NAME"], MASK)
    for text in (user.transcript(), audit.read_text()):
        assert "DB_PASSWORD" in text
        for value in ENV.values():
            assert value not in text


def test_a_preview_shows_the_merge_template_and_no_value() -> None:
    masker = Masker()
    template = {"Environment": {"Variables": {"$merge": ["{current_vars}", {"{variable}": "{value}"}]}}}
    assert masker.value(template, keys=False) == template
