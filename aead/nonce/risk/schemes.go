package risk

import (
	"math"
	"time"

	"github.com/atrest-dev/atrest/aead/nonce"
)

// Deployment describes what, besides the write count, a nonce scheme's risk
// depends on. The zero value is one process that is never restored from a
// snapshot.
type Deployment struct {
	// Starts is the number of process starts that share the key over its
	// lifetime: apiservers × (1 + restarts). Values below 1 count as 1.
	Starts float64
	// Restores is the number of VM snapshot restores of a running writer.
	Restores float64
	// Replay is the number of writes one restore replays: the writes the
	// lost timeline made after the snapshot, which the restored process
	// repeats with the same in-memory state. It is capped at the write count.
	Replay float64
}

// Scheme is one provider's nonce (or IV) scheme, with its risk model.
type Scheme struct {
	Name     string // as on the command line: aesgcm, secretbox, ...
	Provider string // the kube-apiserver provider it belongs to
	Layout   string // what the nonce is made of
	Event    string // what the counted collision means
	// Limit is the most writes the scheme allows under one key (+Inf if
	// none); beyond it Risk is NaN.
	Limit float64
	risk  func(n float64, d Deployment) float64
}

// Risk returns the probability (an exact value or, where the doc of the
// scheme says so, an upper bound) that n writes under one key contain a
// counted collision (Scheme.Event).
func (s Scheme) Risk(n float64, d Deployment) float64 {
	n = math.Floor(n)
	if n > s.Limit || math.IsNaN(n) || n < 0 {
		return math.NaN()
	}
	return s.risk(n, d)
}

// MaxWrites returns the most writes whose Risk stays at or below target.
func (s Scheme) MaxWrites(target float64, d Deployment) float64 {
	limit := s.Limit
	if math.IsInf(limit, 1) {
		limit = math.Ldexp(1, 400)
	}
	return Invert(func(n float64) float64 { return s.Risk(n, d) }, target, limit)
}

// Lifetime returns how long a key lasts at rate writes per second before its
// risk exceeds target (MaxWrites/rate).
func (s Scheme) Lifetime(target, rate float64, d Deployment) time.Duration {
	sec := s.MaxWrites(target, d) / rate
	if sec*1e9 >= math.MaxInt64 || math.IsInf(sec, 0) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(sec * 1e9)
}

func pow2(b int) float64 { return math.Ldexp(1, b) }

// kmsv2Limit is the writes a KMS v2 counter-nonce DEK serves: the counter
// starts at 10^9 and the apiserver exits when it wraps to at most that.
var kmsv2Limit = math.Ldexp(1, 64) - 1 - 1e9

// replays returns the writes replayed by the deployment's restores, at most
// n per restore.
func replays(n float64, d Deployment) float64 {
	return math.Max(0, d.Restores) * math.Min(math.Max(0, d.Replay), n)
}

// hit returns 1 − (1 − p)^k, the chance that at least one of k independent
// events of probability p happens.
func hit(k, p float64) float64 {
	if k <= 0 {
		return 0
	}
	return -math.Expm1(k * math.Log1p(-p))
}

// Schemes returns the nonce schemes of kube-apiserver's providers and
// atrest's strategies, in table order.
func Schemes() []Scheme {
	return []Scheme{
		{
			Name: "aesgcm", Provider: "aesgcm", Layout: "random(96)",
			Event: "GCM nonce reuse: XOR of two plaintexts and the GHASH key leak, forgeries follow",
			Limit: math.Inf(1),
			risk:  func(n float64, _ Deployment) float64 { return Collision(n, pow2(96)) },
		},
		{
			Name: "secretbox", Provider: "secretbox", Layout: "random(192)",
			Event: "XSalsa20 keystream and Poly1305 key reuse: XOR of plaintexts, forgeries",
			Limit: math.Inf(1),
			risk:  func(n float64, _ Deployment) float64 { return Collision(n, pow2(192)) },
		},
		{
			Name: "aescbc", Provider: "aescbc", Layout: "random IV(128)",
			Event: "IV reuse: reveals whether two values start with the same 16-byte blocks (and how many), nothing more",
			Limit: math.Inf(1),
			risk:  func(n float64, _ Deployment) float64 { return Collision(n, pow2(128)) },
		},
		{
			Name: "kmsv2-counter", Provider: "kms v2 (AES_GCM_KEY)", Layout: "random(32) || counter(64), fresh DEK per process",
			Event: "GCM nonce reuse; only possible when a snapshot restore replays the counter (each replayed write collides with probability 2^-32)",
			Limit: kmsv2Limit,
			risk: func(n float64, d Deployment) float64 {
				return hit(replays(n, d), pow2(-32))
			},
		},
		{
			Name: "kmsv2-xnonce", Provider: "kms v2 (HKDF_SHA256_XNONCE_AES_GCM_SEED)", Layout: "info(256) -> HKDF key, random(96)",
			Event: "GCM nonce reuse under one derived key: same info and same nonce, a 352-bit collision",
			Limit: math.Inf(1),
			risk:  func(n float64, _ Deployment) float64 { return Collision(n, pow2(352)) },
		},
		{
			Name: "kmsv2-xnonce-key", Provider: "kms v2 (HKDF_SHA256_XNONCE_AES_GCM_SEED)", Layout: "info(256)",
			Event: "derived-key reuse (same info): harmless unless the nonces also match",
			Limit: math.Inf(1),
			risk:  func(n float64, _ Deployment) float64 { return Collision(n, pow2(256)) },
		},
		AtrestScheme("atrest", nonce.Options{}),
		AtrestScheme("atrest-r32", nonce.Options{RandomBits: 32}),
	}
}

// AtrestScheme returns the risk model of a Counter with options o.
//
// Epochs: each process start opens one, and each EpochWrites writes in one
// process another, so n writes use at most E = min(n, Starts + n/EpochWrites)
// prefixes (E = starts + ⌊(n − starts)/EpochWrites⌋ bounds Σ⌈w_i/EpochWrites⌉
// over the starts). Two nonces collide only if their epochs drew the same prefix
// (p = 64 − RandomBits bits) and they sit at the same counter value with the
// same fresh bits.
//
//   - RandomBits = 0: two epochs with the same prefix collide for certain (both
//     used counter 0), so the risk is exactly Collision(E, 2^64), an upper
//     bound since a process never repeats its own prefixes. A restore that
//     replays at least one write repeats a nonce for certain: risk 1.
//   - RandomBits = r > 0: by the union bound over pairs of epochs, with the
//     writes spread evenly (the worst case), the risk is at most
//     C(E,2)·2^-p·(1 − (1 − 2^-r)^(n/E)), plus 1 − (1 − 2^-r)^R for the R
//     writes replayed by restores.
func AtrestScheme(name string, o nonce.Options) Scheme {
	k := float64(o.EpochWrites)
	if k == 0 {
		k = nonce.MaxEpoch
	}
	r := o.RandomBits
	p := 64 - r
	layout := "prefix(64) || counter(32), prefix re-drawn every 2^32 writes"
	if r > 0 {
		layout = "prefix(" + itoa(p) + ") || random(" + itoa(r) + ") || counter(32)"
	}
	return Scheme{
		Name: name, Provider: "aesgcm (atrest)", Layout: layout,
		Event: "GCM nonce reuse (two epochs drew the same prefix, or a snapshot restore replayed writes)",
		Limit: math.Inf(1),
		risk:  func(n float64, d Deployment) float64 { return counterRisk(n, d, k, p, r) },
	}
}

// counterRisk is AtrestScheme's bound for epochs of k writes, p prefix bits
// and r fresh bits per write (the counter takes the rest of the nonce).
func counterRisk(n float64, d Deployment, k float64, p, r int) float64 {
	if n < 2 {
		return 0
	}
	starts := math.Min(n, math.Max(1, math.Floor(d.Starts)))
	// Σ ceil(w_i/k) over the starts, Σ w_i = n, is at most this:
	e := math.Min(n, starts+math.Floor((n-starts)/k))
	if r == 0 {
		if replays(n, d) >= 1 {
			return 1
		}
		return Collision(e, pow2(p))
	}
	pairs := e * (e - 1) / 2
	epochs := pairs * pow2(-p) * hit(n/e, pow2(-r))
	return math.Min(1, epochs+hit(replays(n, d), pow2(-r)))
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
