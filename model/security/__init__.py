"""The keys and the cryptography of the e-purse: DES/3DES/SM4 primitives and the MAC and TAC
algorithms (`crypto`), issuer key sets and the key stores that hand out only the usages a holder
may have (`keys`), a per-card cache of diversified keys (`key_cache`) and the exact byte strings
each MAC and TAC covers (`mac_inputs`).
"""

from model.security.crypto import (
    Algorithm,
    MacKey,
    cbc_context,
    diversify,
    mac,
    maintenance_mac,
    pad80,
    session_key,
    session_mac_key,
    tac,
    tac_key,
)
from model.security.key_cache import CachedIssuerKeyStore
from model.security.keys import (
    KEY_INDEX_DEFAULT,
    CardKeys,
    IssuerKeyRing,
    IssuerKeys,
    IssuerKeyStore,
    KeyStore,
    KeyStoreError,
    KeyUsage,
    generate_issuer_keys,
    issuer_keys_toml,
    key_file_warnings,
    load_issuer_keys,
    require_usages,
    write_issuer_keys,
)
from model.security.mac_inputs import (
    load_mac1_data,
    load_mac2_data,
    load_session_seed,
    load_tac_data,
    purchase_mac1_data,
    purchase_mac2_data,
    purchase_session_seed,
    purchase_tac_data,
)

__all__ = [
    "KEY_INDEX_DEFAULT",
    "Algorithm",
    "CachedIssuerKeyStore",
    "CardKeys",
    "IssuerKeyRing",
    "IssuerKeyStore",
    "IssuerKeys",
    "KeyStore",
    "KeyStoreError",
    "KeyUsage",
    "MacKey",
    "cbc_context",
    "diversify",
    "generate_issuer_keys",
    "issuer_keys_toml",
    "key_file_warnings",
    "load_issuer_keys",
    "load_mac1_data",
    "load_mac2_data",
    "load_session_seed",
    "load_tac_data",
    "mac",
    "maintenance_mac",
    "pad80",
    "purchase_mac1_data",
    "purchase_mac2_data",
    "purchase_session_seed",
    "purchase_tac_data",
    "require_usages",
    "session_key",
    "session_mac_key",
    "tac",
    "tac_key",
    "write_issuer_keys",
]
