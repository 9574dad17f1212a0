"""One realistic, fake example of every kind of secret the scrubber must remove.

Used by the scrubber's unit tests and by the planted-secrets pipeline test. Each entry
is ``(kind, text, secrets)``: ``text`` is how the secret shows up in a patch, a log, a
config file or a command line; ``secrets`` are the substrings that must never survive.
The values are built from pieces so that this file itself does not look like a leak
to repository scanners; none of them is a real credential.
"""

from __future__ import annotations

_B64 = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7PlantedKeyBody"
PEM_BODY = _B64 + "Rsa01"
OPENSSH_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQPlantedOpenSsh01"
PGP_BODY = "lQOYBGPlantedPgpSecretKeyBlock0001AQgAzQ8vW1r"
GCP_BODY = "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiPlantedGcpKey01"

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + "." + "eyJzdWIiOiJwbGFudGVkLXVzZXIiLCJpYXQiOjE3MDAwMDAwMDB9" + "." + "Pl4ntedSigXk2mP9qLw8rT4vB7nC1zD6fG3hJ5kA0s"
GITHUB_CLASSIC = "ghp_" + "Pl4nted0GithubClassicTok3nAbCdEf012345"
GITHUB_OAUTH = "gho_" + "Pl4nted0GithubOauthTok3nAbCdEfG0123456"
GITHUB_FINE = "github_pat_" + "11PLANTED0_Pl4ntedFineGrainedTok3nAbCdEfGhIjKlMnOpQrStUv"
GITLAB = "glpat-" + "Pl4nted-GitLabTok3n_xyz"
SLACK_TOKEN = "xoxb-" + "123456789012-1234567890123-Pl4ntedSlackTok3nAbCd"
SLACK_HOOK = "https://hooks.slack.com/services/" + "T0PLANT01/B0PLANT02/Pl4ntedWebhookSecret0123"
NPM = "npm_" + "Pl4ntedNpmTok3nAbCdEfGhIjKlMnOpQr0123"
NPM_AUTH = "Pl4ntedNpmrcAuthValue0123"
PYPI = "pypi-" + "AgEIcHlwaS5vcmcCJDVmPl4ntedPyPiTok3nAbCdEfGhIjKlMnOpQrStUvWxYz012345"
HF = "hf_" + "Pl4ntedHuggingFaceTok3nAbCdEfGhIjK"
AWS_ID = "AKIA" + "PLANTED0EXAMPLE7"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYPl4ntedAwsKey"
AZURE_KEY = "Pl4ntedAzureAccountKey" + "0123456789abcdefABCDEF+/xyzw=="
AZURE_SIG = "Pl4ntedSasSignature" + "0123456789abcdef%2BxyzQ%3D"
GCP_API = "AIza" + "SyPl4ntedGoogleApiKey0123456789abcd"
GCP_KEY_ID = "3f2a9c1e" + "7b4d6f8a0c2e4b6d8f0a1c3e5b7d9f1a3c5e7b9d"
STRIPE_SECRET = "sk_live_" + "Pl4ntedStripeSecretKey0123"
STRIPE_RESTRICTED = "rk_live_" + "Pl4ntedStripeRestrictedKey01"
URL_PASSWORD = "Url5ecretPl4nted"
CURL_USER, CURL_PASSWORD = "curlplantusr", "CurlPl4ntedPw"
NETRC_PASSWORD = "N3trcPl4ntedPw"
TSO_USER, TSO_PASSWORD = "TSOPLT1", "TSPW9X"
JCL_USER, JCL_PASSWORD = "JCLPLT1", "JCLPW7Z"
RACF_PASSWORD = "RACFPW5Q"
ZOWE_USER, ZOWE_PASSWORD = "ZOWEPLT1", "Z0wePl4ntedPw"
ZOWE_PW = "Z0wePwFlagPl4nted"
ZOSMF_LTPA = "Pl4ntedLtpaToken2Value0123456789abcdefXYZ"
ZOSMF_PASSWORD = "Zosmf9Pl4ntedPw"
ENTROPY_KEY = "Qm9vdF9wbGFudGVk" + "X2VudHJvcHlfa2V5XzAx7Zr"
DB_PASSWORD = "Pl4ntDbPw"
BEARER = "Pl4ntedBearerTok3n" + "0123456789abcdefXYZ"


def _pem(kind: str, body: str, prefix: str = "") -> str:
    lines = ["-----BEGIN %s-----" % kind, body, body[::-1], "-----END %s-----" % kind]
    return "\n".join(prefix + line for line in lines)


CATALOGUE = (
    ("jwt", 'const char *session = "%s";' % JWT, (JWT, JWT.split(".")[2])),
    ("pgp private key block", _pem("PGP PRIVATE KEY BLOCK", PGP_BODY), (PGP_BODY,)),
    ("pem private key", _pem("RSA PRIVATE KEY", PEM_BODY), (PEM_BODY,)),
    ("openssh private key", _pem("OPENSSH PRIVATE KEY", OPENSSH_BODY), (OPENSSH_BODY,)),
    ("slack webhook", "curl -X POST -d @msg.json %s" % SLACK_HOOK, ("Pl4ntedWebhookSecret0123",)),
    ("slack token", "SLACK_BOT=%s" % SLACK_TOKEN, (SLACK_TOKEN,)),
    ("npm token", "npm config set //registry.npmjs.org/:_authToken=%s" % NPM, (NPM,)),
    ("npmrc auth", "//npm.example.com/:_auth=%s" % NPM_AUTH, (NPM_AUTH,)),
    ("pypi token", "twine upload -u __token__ -p %s dist/*" % PYPI, (PYPI,)),
    ("hugging face token", "huggingface-cli login --token %s" % HF, (HF,)),
    ("github classic token", "git push https://x-access-token:%s@github.com/org/repo" % GITHUB_CLASSIC, (GITHUB_CLASSIC,)),
    ("github oauth token", "gh auth status # %s" % GITHUB_OAUTH, (GITHUB_OAUTH,)),
    ("github fine-grained token", "GH_PAT %s" % GITHUB_FINE, (GITHUB_FINE,)),
    ("gitlab token", "PRIVATE-TOKEN: %s" % GITLAB, (GITLAB,)),
    ("aws access key id", "aws_access_key_id = %s" % AWS_ID, (AWS_ID,)),
    ("aws secret key", "aws_secret_access_key = %s" % AWS_SECRET, (AWS_SECRET,)),
    ("azure account key", "DefaultEndpointsProtocol=https;AccountName=plant;AccountKey=%s;EndpointSuffix=core.windows.net" % AZURE_KEY, (AZURE_KEY,)),
    ("azure sas", "https://plant.blob.core.windows.net/c/f.tgz?sv=2022-11-02&se=2030-01-01&sp=r&sig=%s" % AZURE_SIG, (AZURE_SIG,)),
    ("gcp service account key",
     '{"type": "service_account", "private_key_id": "%s", "private_key": "-----BEGIN PRIVATE KEY-----\\n%s\\n-----END PRIVATE KEY-----\\n"}'
     % (GCP_KEY_ID, GCP_BODY), (GCP_KEY_ID, GCP_BODY)),
    ("gcp api key", "https://maps.googleapis.com/maps/api/geocode/json?key=%s" % GCP_API, (GCP_API,)),
    ("stripe secret key", 'stripe.api_key = "%s"' % STRIPE_SECRET, (STRIPE_SECRET,)),
    ("stripe restricted key", "STRIPE_RK %s" % STRIPE_RESTRICTED, (STRIPE_RESTRICTED,)),
    ("url credentials", "git clone https://deploy:%s@git.example.com/dep.git" % URL_PASSWORD, (URL_PASSWORD,)),
    ("curl -u", "curl -sS -u %s:%s https://repo.example.com/file.tgz" % (CURL_USER, CURL_PASSWORD), (CURL_USER, CURL_PASSWORD)),
    ("netrc password", "machine ftp.example.com login netrcplant password %s" % NETRC_PASSWORD, (NETRC_PASSWORD, "netrcplant")),
    ("tso logon", "LOGON %s/%s" % (TSO_USER, TSO_PASSWORD), (TSO_USER, TSO_PASSWORD)),
    ("jcl job card", "//PLANTJOB JOB (ACCT),'PORT',CLASS=A,USER=%s,PASSWORD=%s" % (JCL_USER, JCL_PASSWORD), (JCL_USER, JCL_PASSWORD)),
    ("racf password", "ALTUSER PLANTU1 PASSWORD(%s) NOEXPIRED" % RACF_PASSWORD, (RACF_PASSWORD,)),
    ("zowe --password", "zowe zos-files list ds 'SYS1.*' --host zosmf.example.com --user %s --password %s" % (ZOWE_USER, ZOWE_PASSWORD),
     (ZOWE_USER, ZOWE_PASSWORD)),
    ("zowe --pw", "zowe zosmf check status --pw %s" % ZOWE_PW, (ZOWE_PW,)),
    ("zosmf ltpa cookie", "Cookie: LtpaToken2=%s; Path=/zosmf" % ZOSMF_LTPA, (ZOSMF_LTPA,)),
    ("zosmf password", '{"zosmf_host": "zosmf.example.com", "zosmf_password": "%s"}' % ZOSMF_PASSWORD, (ZOSMF_PASSWORD,)),
    ("high entropy next to key", "export SIGNING_KEY %s" % ENTROPY_KEY, (ENTROPY_KEY,)),
    ("password assignment", 'DB_PASSWORD="%s"' % DB_PASSWORD, (DB_PASSWORD,)),
    ("bearer token", "curl -H 'Authorization: Bearer %s' https://api.example.com" % BEARER, (BEARER,)),
)

# Every value that must never appear in an output.
ALL_SECRETS = tuple(sorted(set(secret for _kind, _text, secrets in CATALOGUE for secret in secrets)))
