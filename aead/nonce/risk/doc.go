// Package risk quantifies nonce (and IV) collisions for kube-apiserver's
// encryption-at-rest providers and for the Counter strategy of package
// nonce, and checks its formulas by simulation.
//
// Four parts:
//
//   - Exact birthday bounds: LogNoCollision, Collision, MaxWrites and Invert
//     compute P(collision) = 1 − Π_{i<n}(1 − i/N) without the n²/2N
//     approximation, stable from n = 2 (risks like 2^-96 keep full relative
//     precision) to n > N (saturating to exactly 1), and invert it.
//   - Scheme risk models (Schemes, AtrestScheme): random 96-bit GCM nonces
//     (aesgcm), 192-bit secretbox nonces, 128-bit CBC IVs, KMS v2's counter
//     nonce and HKDF extended nonce, and the Counter strategies, each with
//     what a collision means and what the model assumes (process starts,
//     snapshot restores), in Deployment.
//   - Reports: a Report tabulates the schemes' risks, the most writes under
//     a target and key lifetimes per Scenario, as text or Markdown;
//     ParseCount, ParseRate and ParseLifetime read the quantities it takes.
//   - Monte-Carlo validation: Simulate measures first-collision times of
//     truncated random nonces; Wilson gives confidence intervals; Compare
//     checks a simulation against the formula; Validate runs the check over
//     several widths with per-point and family-wise (Bonferroni) intervals;
//     Chart draws simulated against analytic curves as a self-contained SVG.
//
// Every random-nonce model assumes crypto/rand does not repeat itself after a
// VM snapshot restore, which holds on Linux ≥ 5.18 under a hypervisor that
// exposes a VM generation ID (the kernel reseeds on restore); without it any
// scheme that draws its nonces after the snapshot point repeats them.
package risk
