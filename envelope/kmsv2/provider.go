package kmsv2

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	kmsservice "k8s.io/kms/pkg/service"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/internal/alias"
)

// The schedule kube-apiserver keeps with a KMS v2 plugin (see the package
// documentation for where atrest differs).
const (
	// StatusInterval is how long a successful Status check lasts.
	StatusInterval = time.Minute
	// StatusRetryInterval is how long a failed one lasts.
	StatusRetryInterval = 10 * time.Second
	// WriteStateTTL is how long after the last successful check the write
	// DEK may still encrypt.
	WriteStateTTL = 3 * time.Minute
	// CacheTTL is how long a decrypted DEK source stays in the decrypt
	// cache before the next insertion or write may drop it.
	CacheTTL = 24 * time.Hour
	// DefaultTimeout is the per-call timeout when the configuration gives none.
	DefaultTimeout = 3 * time.Second
)

// The plugin API versions kube-apiserver accepts from Status.
const (
	APIVersion        = "v2"
	APIVersionV2beta1 = "v2beta1"
)

var (
	// ErrUnavailable: the plugin cannot be used now. It is unreachable, its
	// Status is not healthy, or no Status check has succeeded yet (reads
	// need one to tell stale values, as in kube-apiserver). Reads and writes
	// fail with it until a check succeeds; ErrExpired also matches it.
	ErrUnavailable = errors.New("kmsv2: KMS plugin unavailable")
	// ErrExpired: the write DEK's state is older than WriteStateTTL because
	// the checks since have failed; writes fail, reads go on. It matches
	// ErrUnavailable.
	ErrExpired error = &subError{"kmsv2: write DEK expired", ErrUnavailable}
	// ErrPlugin: the plugin refused or failed a call, or answered something
	// kube-apiserver would not accept (another key ID from Encrypt than from
	// Status, an invalid key ID or annotations).
	ErrPlugin = errors.New("kmsv2: KMS plugin error")
	// ErrClosed: the Provider was closed.
	ErrClosed = errors.New("kmsv2: provider closed")
)

// subError is a sentinel that also matches a more general one, without
// repeating its text.
type subError struct {
	msg    string
	parent error
}

func (e *subError) Error() string { return e.msg }
func (e *subError) Unwrap() error { return e.parent }

// Provider is a KMS v2 provider: the payload cipher of the values a
// configuration's kms entry writes and reads, talking to one plugin. It
// implements envelope.Cipher (with ad the etcd key), its optional
// OpenStale and SealedLen, and io.Closer. It is safe for concurrent use.
type Provider struct {
	name      string
	svc       kmsservice.Service
	conn      io.Closer // the gRPC connection of Dial, nil for New
	timeout   time.Duration
	writeType DEKSourceType
	now       func() time.Time

	closed atomic.Bool

	// Checks: state is the write state of the last successful check (nil
	// before the first), next the time the next check is due (UnixNano).
	checking sync.Mutex // held while a check runs
	state    atomic.Pointer[writeState]
	next     atomic.Int64
	lastErr  atomic.Pointer[checkError]
	version  string // the first healthy Status's version; under checking

	cache dekCache
}

type checkError struct{ err error }

// writeState is what one successful rotation produced, kube-apiserver's
// State: the DEK that encrypts and how values written with it are labelled.
type writeState struct {
	keyID    string
	typ      DEKSourceType
	src      []byte       // the plugin's ciphertext of the DEK or seed
	anns     []Annotation // the plugin's annotations, by key
	cacheKey [32]byte
	tail     []byte // fields 2..5 of every EncryptedObject written with it
	dek      *dek
	expiry   time.Time
}

// Option configures a Provider.
type Option func(*Provider)

// WithTimeout sets the timeout of each call to the plugin (DefaultTimeout
// otherwise).
func WithTimeout(d time.Duration) Option {
	return func(p *Provider) {
		if d > 0 {
			p.timeout = d
		}
	}
}

// WithDEKSourceType sets the type of DEK source new write states use:
// HKDFSeed (the default, and kube-apiserver's only write mode since 1.29)
// or AESGCMKey (a DEK used directly with counter nonces, as kube-apiserver
// wrote before). Reads accept both whatever the setting, but a value whose
// type differs from it reads as stale.
func WithDEKSourceType(t DEKSourceType) Option {
	return func(p *Provider) { p.writeType = t }
}

// New returns a Provider named name (the <provider name> of the values'
// prefix) over svc, any implementation of the KMS v2 plugin service (the
// gRPC client of Dial, or an in-process plugin). It makes no call yet.
func New(name string, svc kmsservice.Service, opts ...Option) *Provider {
	p := &Provider{name: name, svc: svc, timeout: DefaultTimeout, writeType: HKDFSeed, now: time.Now}
	for _, o := range opts {
		o(p)
	}
	p.cache.init()
	return p
}

// Name returns the provider name.
func (p *Provider) Name() string { return p.name }

// Close closes the connection to the plugin, if the Provider made it. Seal
// and Open then fail with ErrClosed.
func (p *Provider) Close() error {
	if p.closed.Swap(true) || p.conn == nil {
		return nil
	}
	return p.conn.Close()
}

// SealedLen returns about how long Seal's output for n plaintext bytes is
// (exact while the write state does not change).
func (p *Provider) SealedLen(n int) int {
	if s := p.state.Load(); s != nil {
		m := s.dek.sealedLen(n)
		return 1 + varintLen(uint64(m)) + m + len(s.tail)
	}
	return n + 128
}

// Seal appends the payload of a new value, a protobuf EncryptedObject, to
// dst: plaintext encrypted under the write DEK with ad (the etcd key) as
// additional data. The first use, and any use after the last check's
// interval, checks the plugin's Status first (and rotates the DEK when the
// key ID changed).
func (p *Provider) Seal(dst, plaintext, ad []byte) ([]byte, error) {
	s, now, err := p.current(true)
	if err != nil {
		return dst, err
	}
	n := s.dek.sealedLen(len(plaintext))
	ret, out := alias.SliceForAppend(dst, 1+varintLen(uint64(n))+n+len(s.tail))
	o := append(out[:0], 1<<3|wireBytes)
	o = appendVarint(o, uint64(n))
	if _, err := s.dek.seal(o, plaintext, ad); err != nil {
		clear(out)
		return dst, err
	}
	copy(out[len(out)-len(s.tail):], s.tail)
	p.cache.maybeGC(now)
	return ret, nil
}

// Open appends the plaintext of payload to dst; see OpenStale.
func (p *Provider) Open(dst, payload, ad []byte) ([]byte, error) {
	out, _, err := p.OpenStale(dst, payload, ad)
	return out, err
}

// OpenStale parses payload with Parse, finds its DEK source in the decrypt
// cache or has the plugin decrypt it, and appends the plaintext to dst.
// stale is true when the value's key ID or DEK source type differs from the
// write state's, which is when kube-apiserver reports it stale. Reads need a
// write state: before the first successful Status check they fail with
// ErrUnavailable, as in kube-apiserver.
func (p *Provider) OpenStale(dst, payload, ad []byte) (plain []byte, stale bool, err error) {
	o, err := Parse(payload)
	if err != nil {
		return dst, false, err
	}
	s, _, err := p.current(false)
	if err != nil {
		return dst, false, err
	}
	d, err := p.dekFor(&o, s)
	if err != nil {
		return dst, false, err
	}
	out, err := d.open(dst, o.EncryptedData, ad)
	if err != nil {
		return dst, false, err
	}
	return out, string(o.KeyID) != s.keyID || o.DEKSourceType != s.typ, nil
}

// Current returns the key ID and DEK source type new values are written
// with, checking the plugin first when a check is due. Values with another
// key ID or type read as stale.
func (p *Provider) Current() (keyID string, typ DEKSourceType, err error) {
	s, _, err := p.current(false)
	if err != nil {
		return "", 0, err
	}
	return s.keyID, s.typ, nil
}

// Check runs a Status check now, whatever the schedule, and returns its
// error: nil when the plugin is healthy and the write state is current.
func (p *Provider) Check() error {
	if p.closed.Load() {
		return ErrClosed
	}
	p.checking.Lock()
	defer p.checking.Unlock()
	return p.check(p.now())
}

// ResetCache drops every decrypted DEK source from the decrypt cache (the
// write state's stays): the next read of each value pays a Decrypt call to
// the plugin again. Benchmarks use it to time cold reads.
func (p *Provider) ResetCache() { p.cache.reset() }

// current returns the write state, checking the plugin first when a check
// is due: a caller that has no usable state (none yet, or an expired one
// for a write) waits for the check; others go on with the state they have
// while one of them checks.
func (p *Provider) current(write bool) (*writeState, time.Time, error) {
	if p.closed.Load() {
		return nil, time.Time{}, ErrClosed
	}
	now := p.now()
	s := p.state.Load()
	if now.UnixNano() >= p.next.Load() {
		usable := s != nil && !(write && now.After(s.expiry))
		if !usable {
			p.checking.Lock()
		}
		if !usable || p.checking.TryLock() {
			if now.UnixNano() >= p.next.Load() { // not checked meanwhile
				p.check(now)
			}
			p.checking.Unlock()
			s = p.state.Load()
		}
	}
	switch {
	case s == nil:
		return nil, now, p.unavailable()
	case write && now.After(s.expiry):
		err := fmt.Errorf("%w: encryptedDEKSource with keyID hash %q expired at %s", ErrExpired,
			keyIDHash(s.keyID), s.expiry.Format(time.RFC3339))
		if last := p.lastCheckErr(); last != nil {
			err = fmt.Errorf("%w (last check: %w)", err, last)
		}
		return nil, now, err
	}
	return s, now, nil
}

func (p *Provider) unavailable() error {
	return withUnavailable(p.lastCheckErr())
}

// withUnavailable returns err matching ErrUnavailable, wrapping it only if
// it does not match already (so that the message says it once).
func withUnavailable(err error) error {
	switch {
	case err == nil:
		return ErrUnavailable
	case errors.Is(err, ErrUnavailable):
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

func (p *Provider) lastCheckErr() error {
	if e := p.lastErr.Load(); e != nil {
		return e.err
	}
	return nil
}

// check is kube-apiserver's probe: Status must be healthy with an
// acceptable version and key ID; a key ID other than the write state's (or
// no write state) makes a new DEK or seed, which the plugin encrypts. A
// failure keeps the old state and its expiry and makes the next check due
// after StatusRetryInterval. The caller holds p.checking.
func (p *Provider) check(now time.Time) error {
	err := p.checkOnce(now)
	if err != nil {
		p.lastErr.Store(&checkError{err})
		p.next.Store(now.Add(StatusRetryInterval).UnixNano())
		return err
	}
	p.lastErr.Store(nil)
	p.next.Store(now.Add(StatusInterval).UnixNano())
	return nil
}

func (p *Provider) checkOnce(now time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	st, err := p.svc.Status(ctx)
	if err != nil {
		return withUnavailable(fmt.Errorf("status of KMS provider %s: %w", p.name, err))
	}
	var errs []error
	if st.Healthz != "ok" {
		errs = append(errs, fmt.Errorf("got unexpected healthz status %q", short(st.Healthz)))
	}
	switch {
	case st.Version != APIVersion && st.Version != APIVersionV2beta1:
		errs = append(errs, fmt.Errorf("expected KMSv2 API version %s, got %q", APIVersion, short(st.Version)))
	case p.version == "":
		p.version = st.Version
	case p.version != st.Version:
		errs = append(errs, fmt.Errorf("KMSv2 API version should not change after the initial status response version %s, got %s", p.version, st.Version))
	}
	if err := validateKeyID([]byte(st.KeyID)); err != nil {
		errs = append(errs, err)
	} else if err := p.rotate(ctx, st.KeyID, now); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: KMS provider %s is not healthy: %w", ErrUnavailable, p.name, errors.Join(errs...))
	}
	return nil
}

// rotate extends the write state's expiry if it is for keyID, and
// otherwise replaces it with a new DEK or seed encrypted by the plugin,
// moving the old one to the decrypt cache.
func (p *Provider) rotate(ctx context.Context, keyID string, now time.Time) error {
	expiry := now.Add(WriteStateTTL) // taken before the Encrypt call, as kube-apiserver does
	old := p.state.Load()
	if old != nil && old.keyID == keyID && old.typ == p.writeType {
		s := *old
		s.expiry = expiry
		p.state.Store(&s)
		return nil
	}
	key := make([]byte, 32)
	rand.Read(key)
	defer clear(key)
	resp, err := p.svc.Encrypt(ctx, newUID(), key)
	if err != nil {
		return fmt.Errorf("%w: failed to encrypt DEK: %w", ErrPlugin, err)
	}
	if resp.KeyID != keyID {
		return fmt.Errorf("%w: Encrypt answered key ID hash %q, Status %q", ErrPlugin, keyIDHash(resp.KeyID), keyIDHash(keyID))
	}
	s := &writeState{keyID: keyID, typ: p.writeType, src: bytes.Clone(resp.Ciphertext), expiry: expiry}
	for _, k := range slices.Sorted(maps.Keys(resp.Annotations)) {
		s.anns = append(s.anns, Annotation{Key: []byte(k), Value: bytes.Clone(resp.Annotations[k])})
	}
	if err := validateHeader([]byte(keyID), s.src, s.anns); err != nil {
		return fmt.Errorf("%w: %w", ErrPlugin, err)
	}
	var nonces aead.NonceSource // a fresh counter for each write DEK
	if s.typ == AESGCMKey {
		nonces = newCounterNonces()
	}
	if s.dek, err = newDEK(s.typ, key, nonces); err != nil {
		return fmt.Errorf("%w: %w", ErrPlugin, err)
	}
	s.cacheKey = cacheKeyHash(s.typ, s.src, []byte(keyID), s.anns)
	s.tail = appendTail(nil, []byte(keyID), s.src, s.anns, s.typ)
	if old != nil {
		p.cache.put(old.cacheKey, old.dek, now)
	}
	p.state.Store(s)
	return nil
}

// dekFor returns the dek of o's DEK source: the write state's when o was
// written with it, a cached one, or one the plugin decrypts.
func (p *Provider) dekFor(o *Object, s *writeState) (*dek, error) {
	if o.DEKSourceType == s.typ && string(o.KeyID) == s.keyID &&
		bytes.Equal(o.EncryptedDEKSource, s.src) && sameAnnotations(o.Annotations, s.anns) {
		return s.dek, nil
	}
	h := cacheKeyHash(o.DEKSourceType, o.EncryptedDEKSource, o.KeyID, o.Annotations)
	if d := p.cache.get(h); d != nil {
		return d, nil
	}
	req := &kmsservice.DecryptRequest{
		Ciphertext: bytes.Clone(o.EncryptedDEKSource),
		KeyID:      string(o.KeyID),
	}
	if len(o.Annotations) > 0 {
		req.Annotations = make(map[string][]byte, len(o.Annotations))
		for _, a := range o.Annotations {
			req.Annotations[string(a.Key)] = bytes.Clone(a.Value)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	key, err := p.svc.Decrypt(ctx, newUID(), req)
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return nil, fmt.Errorf("failed to decrypt DEK: %w", err)
		}
		return nil, fmt.Errorf("%w: failed to decrypt DEK: %w", ErrPlugin, err)
	}
	d, err := newDEK(o.DEKSourceType, key, nil)
	clear(key)
	if err != nil {
		return nil, err
	}
	p.cache.put(h, d, p.now())
	return d, nil
}

func sameAnnotations(a, b []Annotation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Key, b[i].Key) || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

// dekCache is the decrypt cache: decrypted DEK sources by cacheKeyHash.
// Entries expire CacheTTL after insertion; an expired entry is still
// served until the next insertion or write drops it.
type dekCache struct {
	mu      sync.RWMutex
	entries map[[32]byte]cacheEntry
	nextGC  atomic.Int64 // the earliest expiry (UnixNano); max when empty
}

type cacheEntry struct {
	dek    *dek
	expiry int64
}

func (c *dekCache) init() {
	c.entries = map[[32]byte]cacheEntry{}
	c.nextGC.Store(1<<63 - 1)
}

func (c *dekCache) get(h [32]byte) *dek {
	c.mu.RLock()
	e := c.entries[h]
	c.mu.RUnlock()
	return e.dek
}

func (c *dekCache) put(h [32]byte, d *dek, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp := now.Add(CacheTTL).UnixNano()
	c.entries[h] = cacheEntry{d, exp}
	c.gcLocked(now.UnixNano())
}

// maybeGC drops expired entries when one may have expired: the write
// path's call costs one atomic load.
func (c *dekCache) maybeGC(now time.Time) {
	if now.UnixNano() < c.nextGC.Load() {
		return
	}
	c.mu.Lock()
	c.gcLocked(now.UnixNano())
	c.mu.Unlock()
}

func (c *dekCache) gcLocked(now int64) {
	next := int64(1<<63 - 1)
	for h, e := range c.entries {
		if e.expiry <= now {
			delete(c.entries, h)
			continue
		}
		next = min(next, e.expiry)
	}
	c.nextGC.Store(next)
}

func (c *dekCache) reset() {
	c.mu.Lock()
	clear(c.entries)
	c.nextGC.Store(1<<63 - 1)
	c.mu.Unlock()
}

func (c *dekCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// newUID returns a random (version 4) UUID for a plugin call, which plugins
// log to correlate requests.
func newUID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}

// keyIDHash names a key ID in errors as kube-apiserver does.
func keyIDHash(keyID string) string {
	if keyID == "" {
		return ""
	}
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(keyID)))
}

// short bounds a string from the plugin quoted in an error.
func short(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
