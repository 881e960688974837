// Package nonce quantifies nonce (and IV) collisions for kube-apiserver's
// encryption-at-rest providers and provides atrest's nonce strategy for
// aesgcm.
//
// Three parts:
//
//   - Exact birthday bounds: LogNoCollision, Collision, MaxWrites and Invert
//     compute P(collision) = 1 − Π_{i<n}(1 − i/N) without the n²/2N
//     approximation, stable from n = 2 (risks like 2^-96 keep full relative
//     precision) to n > N (saturating to exactly 1), and invert it.
//   - Scheme risk models (Schemes, AtrestScheme): random 96-bit GCM nonces
//     (aesgcm), 192-bit secretbox nonces, 128-bit CBC IVs, KMS v2's counter
//     nonce and HKDF extended nonce, and atrest's Counter strategy, each with
//     what a collision means and what the model assumes (process starts,
//     snapshot restores), in Deployment.
//   - Counter, an aead.NonceSource for aesgcm: a 64-bit random epoch prefix
//     and a 32-bit counter, optionally with fresh random bits per write.
//   - Monte-Carlo validation: Simulate measures first-collision times of
//     truncated random nonces; Wilson gives confidence intervals; Chart
//     draws simulated against analytic curves as a self-contained SVG.
//
// Every random-nonce model assumes crypto/rand does not repeat itself after a
// VM snapshot restore, which holds on Linux ≥ 5.18 under a hypervisor that
// exposes a VM generation ID (the kernel reseeds on restore); without it any
// scheme that draws its nonces after the snapshot point repeats them.
package nonce
