// Package kmsplugin is a local KMS v2 plugin: the k8s.io/kms service that
// kube-apiserver (and atrest's envelope/kmsv2) call over a unix socket to
// encrypt and decrypt DEKs, with AES-256-GCM key wrapping under key
// encryption keys (KEKs) read from files.
//
// It is meant for tests, demos and clusters that want envelope encryption
// without a cloud KMS; the KEK files are then the secrets to protect (the
// plugin does nothing an HSM would). A Plugin holds one or more KEKs: the
// first encrypts and is the key ID Status reports, all decrypt. Rotation is
// adding a new KEK file in front of the old one and reloading (SIGHUP for
// atrest kms-plugin); once no value names the old key ID, drop its file.
//
// Formats:
//
//	KEK file    a regular file (symbolic links followed) of at most 4 KiB: 32 random
//	            bytes, raw, or their base64 (CreateKEKFile writes base64, mode 0600)
//	key ID      hex(SHA-256("atrest kms-plugin key id\x00" || KEK))[:32], 128 bits
//	ciphertext  nonce(12) || AES-256-GCM_KEK(DEK) || tag(16), with additional data
//	            "atrest kms-plugin\x00" || key ID || the annotations it was returned with
//
// so a ciphertext only decrypts under its own key ID and annotations. The
// plugin returns no annotations unless Options.Annotations sets some.
//
// Whoever can connect to the plugin can have DEKs unwrapped: Listen and
// Serve admit only the connections of the plugin's own user (checked on
// each connection from the kernel's peer credentials), ListenConfig those
// of other users and groups too; abstract sockets are refused unless
// allowed, and an existing socket path is replaced only when it is a
// socket of the plugin's user that refuses connections.
package kmsplugin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"

	kmsservice "k8s.io/kms/pkg/service"

	"github.com/atrest-dev/atrest/aead"
)

// KEKSize is the size of a key encryption key.
const KEKSize = 32

// MaxKEKFileSize bounds what ReadKEKFile reads: a KEK file holds 32 bytes,
// or their base64 (44 characters) and white space.
const MaxKEKFileSize = 4096

var (
	// ErrKEKFile: a KEK file does not hold 32 bytes, raw or base64.
	ErrKEKFile = errors.New("kmsplugin: a KEK file must hold 32 bytes, raw or base64")
	// ErrUnknownKeyID: Decrypt was asked for a key ID the plugin has no KEK for.
	ErrUnknownKeyID = errors.New("kmsplugin: unknown key ID")
	// ErrDecrypt: a ciphertext does not authenticate under its key ID's KEK
	// (tampered, or sent with other annotations than it was returned with).
	ErrDecrypt = errors.New("kmsplugin: ciphertext does not authenticate")
	// ErrNoKEK: a Plugin needs at least one KEK.
	ErrNoKEK = errors.New("kmsplugin: no KEK")
	// ErrNotRegularFile: a KEK file is not a regular file (a FIFO, a
	// device such as /dev/zero, a directory, a socket).
	ErrNotRegularFile = errors.New("kmsplugin: a KEK file must be a regular file")
	// ErrKEKFileTooLarge: a KEK file is larger than MaxKEKFileSize.
	ErrKEKFileTooLarge = errors.New("kmsplugin: KEK file too large")
)

// Plugin implements k8s.io/kms/pkg/service.Service. It is safe for
// concurrent use.
type Plugin struct {
	files []string
	anns  map[string][]byte

	mu   sync.RWMutex
	keks []kek // keks[0] encrypts
}

type kek struct {
	id   string
	file string
	gcm  *aead.GCM
	warn string
}

var _ kmsservice.Service = (*Plugin)(nil)

// Options configure a Plugin.
type Options struct {
	// Annotations are returned with every Encrypt and must come back with
	// Decrypt. Keys must be fully qualified domain names (kube-apiserver
	// refuses others); nil for none.
	Annotations map[string][]byte
}

// New returns a Plugin with the KEKs of files, the first one encrypting.
func New(o Options, files ...string) (*Plugin, error) {
	p := &Plugin{files: slices.Clone(files), anns: maps.Clone(o.Annotations)}
	if err := p.Reload(); err != nil {
		return nil, err
	}
	return p, nil
}

// NewWithKEKs returns a Plugin over KEKs given as bytes, the first one
// encrypting (for tests and embedding). Reload keeps them.
func NewWithKEKs(o Options, keks ...[]byte) (*Plugin, error) {
	p := &Plugin{anns: maps.Clone(o.Annotations)}
	ks, err := makeKEKs(keks)
	if err != nil {
		return nil, err
	}
	p.keks = ks
	return p, nil
}

// Reload reads the KEK files again. The first file must exist; a later
// one that does not is skipped (so that the slot of a previous KEK can be
// named before a rotation creates it). On error the KEKs in use stay.
func (p *Plugin) Reload() error {
	if p.files == nil {
		return nil
	}
	var (
		raw   [][]byte
		files []string
	)
	defer func() {
		for _, k := range raw {
			clear(k)
		}
	}()
	for i, f := range p.files {
		k, err := ReadKEKFile(f)
		if i > 0 && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		raw = append(raw, k)
		files = append(files, f)
	}
	ks, err := makeKEKs(raw)
	if err != nil {
		return err
	}
	for i := range ks {
		ks[i].file = files[i]
	}
	p.mu.Lock()
	p.keks = ks
	p.mu.Unlock()
	return nil
}

// Loaded describes one KEK in use.
type Loaded struct {
	File  string // empty for NewWithKEKs
	KeyID string
	// Warning, if not empty, says why the KEK looks weak: its 32 bytes are
	// all printable text (a hex or text key taken byte for byte), which
	// random bytes almost never are (odds below 2^-44).
	Warning string
}

// Loaded returns the KEKs in use, the encrypting one first.
func (p *Plugin) Loaded() []Loaded {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []Loaded
	for _, k := range p.keks {
		out = append(out, Loaded{File: k.file, KeyID: k.id, Warning: k.warn})
	}
	return out
}

func makeKEKs(raw [][]byte) ([]kek, error) {
	if len(raw) == 0 {
		return nil, ErrNoKEK
	}
	var out []kek
	for _, k := range raw {
		if len(k) != KEKSize {
			return nil, ErrKEKFile
		}
		g, err := aead.NewGCM(k)
		if err != nil {
			return nil, err
		}
		out = append(out, kek{id: KeyID(k), gcm: g, warn: textWarning(k)})
	}
	return out, nil
}

// textWarning returns the Loaded.Warning of a KEK.
func textWarning(k []byte) string {
	hex := true
	for _, c := range k {
		if (c < 0x20 || c > 0x7e) && c != '\t' && c != '\n' && c != '\r' {
			return ""
		}
		hex = hex && strings.ContainsRune("0123456789abcdefABCDEF\n", rune(c))
	}
	if hex {
		return "the KEK is 32 hex digits taken as 32 bytes, not decoded (16 bytes of randomness at most); use 32 random bytes or their base64 (atrest kms-plugin --create)"
	}
	return "the KEK's 32 bytes are all printable text, unlike random bytes: a text key is far weaker than 256 bits; use 32 random bytes or their base64 (atrest kms-plugin --create)"
}

// KeyID returns the key ID of a KEK: 32 hex digits of a domain-separated
// SHA-256, which identifies the KEK without revealing it.
func KeyID(k []byte) string {
	h := sha256.New()
	h.Write([]byte("atrest kms-plugin key id\x00"))
	h.Write(k)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Status reports version v2, healthz "ok" and the encrypting KEK's key ID.
func (p *Plugin) Status(context.Context) (*kmsservice.StatusResponse, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return &kmsservice.StatusResponse{Version: "v2", Healthz: "ok", KeyID: p.keks[0].id}, nil
}

// Encrypt wraps plaintext (a DEK or seed) under the encrypting KEK.
func (p *Plugin) Encrypt(_ context.Context, _ string, plaintext []byte) (*kmsservice.EncryptResponse, error) {
	p.mu.RLock()
	k := p.keks[0]
	p.mu.RUnlock()
	ct, err := k.gcm.Seal(nil, plaintext, p.ad(k.id, p.anns))
	if err != nil {
		return nil, err
	}
	return &kmsservice.EncryptResponse{Ciphertext: ct, KeyID: k.id, Annotations: maps.Clone(p.anns)}, nil
}

// Decrypt unwraps a ciphertext of Encrypt under the KEK of req.KeyID.
func (p *Plugin) Decrypt(_ context.Context, _ string, req *kmsservice.DecryptRequest) ([]byte, error) {
	p.mu.RLock()
	var k *kek
	for i := range p.keks {
		if p.keks[i].id == req.KeyID {
			k = &p.keks[i]
		}
	}
	p.mu.RUnlock()
	if k == nil {
		return nil, ErrUnknownKeyID
	}
	pt, err := k.gcm.Open(nil, req.Ciphertext, p.ad(k.id, req.Annotations))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// ad binds a ciphertext to its key ID and annotations.
func (p *Plugin) ad(keyID string, anns map[string][]byte) []byte {
	b := append([]byte("atrest kms-plugin\x00"), keyID...)
	for _, k := range slices.Sorted(maps.Keys(anns)) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(anns[k])))
		b = append(b, anns[k]...)
	}
	return b
}

// ReadKEKFile reads a KEK: a file of 32 bytes, or of their base64 (standard
// encoding, surrounding white space ignored). The file must be a regular
// file, symbolic links followed (a Kubernetes Secret volume links each key
// to its current version), of at most MaxKEKFileSize bytes: others fail at
// once with ErrNotRegularFile or ErrKEKFileTooLarge, without being read
// (it is opened non-blocking, so a FIFO does not wait for a writer).
func ReadKEKFile(path string) ([]byte, error) {
	// Stat first, so that a device is not even opened (opening one can
	// have effects); then check what was opened.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkKEKFile(path, fi); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkKEKFile(path, fi); err != nil {
		return nil, err
	}
	buf := make([]byte, MaxKEKFileSize+1)
	defer clear(buf)
	n, err := io.ReadFull(f, buf)
	switch {
	case n > MaxKEKFileSize: // it grew
		return nil, fmt.Errorf("%w: %s has more than %d bytes", ErrKEKFileTooLarge, path, MaxKEKFileSize)
	case err != nil && err != io.ErrUnexpectedEOF && err != io.EOF:
		return nil, err
	}
	data := buf[:n]
	if len(data) == KEKSize {
		return bytes.Clone(data), nil
	}
	t := bytes.TrimSpace(data)
	k := make([]byte, base64.StdEncoding.DecodedLen(len(t)))
	n, err = base64.StdEncoding.Decode(k, t)
	if err != nil || n != KEKSize {
		clear(k)
		return nil, fmt.Errorf("%s: %w", path, ErrKEKFile)
	}
	return k[:n], nil
}

func checkKEKFile(path string, fi fs.FileInfo) error {
	switch {
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%w: %s is %s", ErrNotRegularFile, path, fileKind(fi.Mode()))
	case fi.Size() > MaxKEKFileSize:
		return fmt.Errorf("%w: %s is %d bytes, max %d (a KEK file holds 32 bytes or their base64)", ErrKEKFileTooLarge, path, fi.Size(), MaxKEKFileSize)
	}
	return nil
}

// CreateKEKFile writes a new random KEK, base64, to path with mode 0600. It
// refuses to overwrite an existing file. It returns the key ID.
func CreateKEKFile(path string) (keyID string, err error) {
	k := make([]byte, KEKSize)
	defer clear(k)
	if _, err := randRead(k); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	enc := []byte(base64.StdEncoding.EncodeToString(k) + "\n")
	defer clear(enc)
	if _, err := f.Write(enc); err != nil {
		f.Close()
		os.Remove(path)
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", err
	}
	return KeyID(k), nil
}
