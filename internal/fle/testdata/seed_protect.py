# The encryption and decryption functions of the AWS Security blog post "How to
# protect sensitive data for its entire lifecycle in AWS", verbatim except for
# what a test must replace: the public key comes from argv, and the KMS client
# from the decryption function is replaced by a local RSA-OAEP SHA-256 decrypt
# with a private key (KMS's RSAES_OAEP_SHA_256 is the same algorithm).
#
# usage: seed_protect.py protect PUBLIC_KEY_PEM < plaintext.json > protected.json
#        seed_protect.py unprotect PRIVATE_KEY_PEM < protected.txt > plaintext.txt
#        seed_protect.py bench PUBLIC_KEY_PEM N FIELD,FIELD,... < body.json > ns.json
# bench runs the seed's lambda_handler N times on an origin-request event
# carrying the body, with the given field names, and writes each run's time
# in nanoseconds.
import sys

import Crypto
import Crypto.Hash.SHA256
import base64
import json
import re
from Crypto.Cipher import PKCS1_OAEP
from Crypto.PublicKey import RSA

mode, key_file = sys.argv[1], sys.argv[2]

# PEM-formatted RSA public key copied over from AWS KMS or your own public key.
RSA_PUBLIC_KEY = open(key_file).read()
RSA_PUBLIC_KEY_OBJ = RSA.importKey(RSA_PUBLIC_KEY)
RSA_CIPHER_OBJ = PKCS1_OAEP.new(RSA_PUBLIC_KEY_OBJ, Crypto.Hash.SHA256)

# Example sensitive data field names in a JSON object.
PII_SENSITIVE_FIELD_NAMES = ["fname", "lname", "email", "ssn", "dob", "phone"]

CIPHERTEXT_PREFIX = "#01#"
CIPHERTEXT_SUFFIX = "#10#"


def lambda_handler(event, context):
    # Extract HTTP request and its body as per documentation:
    # https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html
    http_request = event['Records'][0]['cf']['request']
    body = http_request['body']
    org_body = base64.b64decode(body['data'])
    mod_body = protect_sensitive_fields_json(org_body)
    body['action'] = 'replace'
    body['encoding'] = 'text'
    body['data'] = mod_body
    return http_request


def protect_sensitive_fields_json(body):
    # Encrypts sensitive fields in sample JSON payload shown earlier in this post.
    # [{"fname": "Alejandro", "lname": "Rosalez", … }]
    person_list = json.loads(body.decode("utf-8"))
    for person_data in person_list:
        for field_name in PII_SENSITIVE_FIELD_NAMES:
            if field_name not in person_data:
                continue
            plaintext = person_data[field_name]
            ciphertext = RSA_CIPHER_OBJ.encrypt(bytes(plaintext, 'utf-8'))
            ciphertext_b64 = base64.b64encode(ciphertext).decode()
            # Optionally, add unique prefix/suffix patterns to ciphertext
            person_data[field_name] = CIPHERTEXT_PREFIX + ciphertext_b64 + CIPHERTEXT_SUFFIX
    return json.dumps(person_list)


class LocalKMS:
    """Stands in for boto3's KMS client: RSAES_OAEP_SHA_256 with the private key."""

    def __init__(self, private_key):
        self.cipher = PKCS1_OAEP.new(private_key, Crypto.Hash.SHA256)

    def decrypt(self, EncryptionAlgorithm, KeyId, CiphertextBlob):
        assert EncryptionAlgorithm == "RSAES_OAEP_SHA_256"
        return {"Plaintext": self.cipher.decrypt(CiphertextBlob)}


kms_client = LocalKMS(RSA_PUBLIC_KEY_OBJ) if mode == "unprotect" else None


# Helper function that performs non-greedy regex search for ciphertext strings on
# input data and performs RSA decryption of them using AWS KMS
def unprotect_fields(org_data, prefix, suffix):
    regex_pattern = prefix + "(.*?)" + suffix
    mod_data_parts = []
    cursor = 0

    # Search ciphertexts iteratively using python regular expression module
    for match in re.finditer(regex_pattern, org_data):
        mod_data_parts.append(org_data[cursor: match.start()])
        try:
            # Ciphertext was stored as Base64 encoded in our example. Decode it.
            ciphertext = base64.b64decode(match.group(1))

            # Decrypt ciphertext using AWS KMS
            decrypt_rsp = kms_client.decrypt(
                EncryptionAlgorithm="RSAES_OAEP_SHA_256",
                KeyId="<Your-Key-ID>",
                CiphertextBlob=ciphertext)
            decrypted_val = decrypt_rsp["Plaintext"].decode("utf-8")
            mod_data_parts.append(decrypted_val)
        except Exception as e:
            print ("Exception: " + str(e))
            return None
        cursor = match.end()

    mod_data_parts.append(org_data[cursor:])
    return "".join(mod_data_parts)


data = sys.stdin.buffer.read()
if mode == "bench":
    import copy
    import time
    n = int(sys.argv[3])
    PII_SENSITIVE_FIELD_NAMES = sys.argv[4].split(",")
    event = {"Records": [{"cf": {"config": {"eventType": "origin-request"}, "request": {
        "method": "POST", "uri": "/records", "headers": {},
        "body": {"inputTruncated": False, "action": "read-only", "encoding": "base64",
                 "data": base64.b64encode(data).decode()}}}}]}
    times = []
    for _ in range(n):
        ev = copy.deepcopy(event)
        t0 = time.perf_counter_ns()
        lambda_handler(ev, None)
        times.append(time.perf_counter_ns() - t0)
    sys.stdout.write(json.dumps(times))
elif mode == "protect":
    sys.stdout.write(protect_sensitive_fields_json(data))
else:
    out = unprotect_fields(data.decode("utf-8"), CIPHERTEXT_PREFIX, CIPHERTEXT_SUFFIX)
    if out is None:
        sys.exit(1)
    sys.stdout.buffer.write(out.encode("utf-8"))
