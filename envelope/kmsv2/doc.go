// Package kmsv2 implements kube-apiserver's KMS v2 provider, byte for byte:
// the payload after the prefix k8s:enc:kms:v2:<provider name>: (which the
// envelope package owns), the two ways its data is encrypted, and the
// conversation with a KMS v2 plugin over gRPC. k8s.io/apiserver v0.37.2
// (pkg/storage/value/encrypt/envelope/kmsv2 and the KMS parts of
// pkg/server/options/encryptionconfig) is the reference; the differential
// tests and the fuzz target FuzzKMSDecrypt hold atrest to it.
//
// # Format
//
// The payload is a protobuf EncryptedObject (see Object): the encrypted
// data, the key ID of the KMS key (KEK) that protects the DEK, the plugin's
// ciphertext of the DEK or seed (the encrypted DEK source), the plugin's
// annotations, and the DEK source type. Parse decodes it by hand, aliasing
// the payload and allocating nothing for the usual object without
// annotations (BenchmarkParse compares it with proto.Unmarshal into the
// apiserver's generated type, which allocates the object, copies every
// field and builds the map), and accepts exactly what proto.Unmarshal plus
// the apiserver's ValidateEncryptedObject accept: unknown fields and known
// fields with another wire type are skipped, the last occurrence of a field
// wins, map entries merge. Encoding writes fields in number order, as
// protobuf-go does. The data is, under the decrypted DEK source and with
// the etcd key as additional data:
//
//	AES_GCM_KEY                      nonce(12) || ciphertext || tag(16)
//	                                 nonce = random(4) || uint64_LE(counter), counter from CounterStart+1
//	HKDF_SHA256_XNONCE_AES_GCM_SEED  info(32) || nonce(12) || ciphertext || tag(16)
//	                                 key = HKDF-Expand(SHA-256, seed, info, 32), info and nonce random
//
// kube-apiserver writes only the second since 1.29; both are read. A
// Provider writes the second unless WithDEKSourceType says otherwise. The
// counter never wraps: at 2^64-1 writes fail with ErrNonceExhausted (the
// apiserver exits). GCM runs on atrest's aead package (SealGCMWithKey for
// the per-value HKDF keys), so the data path has its hardware paths.
//
// # The plugin
//
// A Provider talks to a plugin through k8s.io/kms/pkg/service.Service;
// Dial gives it kube-apiserver's gRPC client for an endpoint unix:///path.
// Every call has the configuration's timeout (DefaultTimeout, 3 s, when it
// gives none). The schedule is kube-apiserver's:
//
//   - Status must answer healthz "ok", version v2 or v2beta1 (and keep the
//     first version it answered), and a valid key ID, or the check fails.
//     As in kube-apiserver, a valid key ID still rotates or extends the
//     write state in a failed check: a plugin that calls itself unhealthy
//     but answers keeps writes going.
//   - One DEK or seed per key ID: at the first check, and whenever Status
//     reports another key ID, 32 random bytes are made and encrypted by the
//     plugin's Encrypt, which must answer the same key ID. All writes use
//     it (the write state). A failed rotation keeps the old write state.
//   - A check lasts StatusInterval (1 min) when it succeeds and
//     StatusRetryInterval (10 s) when it fails.
//   - The write state expires WriteStateTTL (3 min) after the last
//     successful check (the time is taken before the Encrypt call); writes
//     then fail with ErrExpired until a check succeeds. Reads go on.
//   - Reads need a write state (to tell stale values): before the first
//     successful check they fail with ErrUnavailable.
//   - A read whose DEK source is not cached calls Decrypt with the
//     encrypted DEK source, key ID and annotations; the answer must be a
//     16, 24 or 32 byte AES key (AES_GCM_KEY) or a seed of at least 32
//     bytes.
//   - The decrypt cache is keyed by SHA-256 of the apiserver's cache key,
//     u32_BE(type) || u16-length-prefixed encrypted DEK source || key ID ||
//     [u32_BE(#annotations) || u16-prefixed key, value by key]. Entries
//     live CacheTTL (24 h) from insertion; an expired entry is still
//     served until the next insertion or write removes it. The write
//     state's DEK source is always served, and moves into the cache (with a
//     fresh TTL) when a rotation replaces it.
//   - A value is stale when its key ID or DEK source type differs from the
//     write state's (OpenStale; envelope.Chain.Decrypt uses it).
//
// Where atrest differs, and why:
//
//   - Checks run when the Provider is used, not on a timer: the first
//     Seal, Open or Current checks synchronously (a one-shot CLI run asks
//     Status once, then works), and a use after the check's interval runs
//     the next check in the caller (others go on with the current state
//     meanwhile). An idle Provider makes no calls and keeps no goroutine;
//     a write state that expired while idle is renewed by the next write's
//     check instead of failing it. kube-apiserver polls in the background.
//   - A call fails at once when the socket refuses connections (gRPC fail
//     fast) rather than waiting for the plugin until the timeout; such
//     failures match ErrUnavailable, so a scan of a cluster whose plugin is
//     down counts its KMS values as unchecked instead of stalling.
//   - The write state is not re-inserted into the cache on every write;
//     values written with it are recognised by comparing their DEK source
//     with it, which is what the re-insertion achieves in kube-apiserver.
//     Expired entries are removed on insertion and on writes, as there.
//   - The per-value keys of HKDF_SHA256_XNONCE_AES_GCM_SEED are derived on
//     every read (two SHA-256 blocks) instead of kept in a second cache
//     keyed by etcd key.
//
// Describe tells what a stored payload holds without the plugin (key ID,
// DEK source type and identity, annotation keys, sizes), for inspect and
// scan. The kmsplugin package is a local plugin to test and demo with.
package kmsv2
