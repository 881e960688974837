//go:build (!amd64 && !arm64 && !s390x && !ppc64 && !ppc64le) || purego

package cpu

// Elsewhere, and under the purego tag, no feature is detected: every flag
// stays false and every package takes its generic path.
func detect() {}
