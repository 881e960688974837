//go:build !purego

package aead

import "github.com/atrest-dev/atrest/internal/cpu"

// useVAES256 selects the VAES/VPCLMULQDQ AVX2 GCM of gcm_amd64.s: ymm
// registers only, for CPUs with VAES but no AVX-512 (AMD Zen 3, Intel Alder
// Lake and later, Sierra Forest) and those where 256-bit vectors are faster.
// It shares gcmAsm (round keys, gcmInitVAES's key powers) with VAES-512.
// BMI2 (SHLX/SHRX) aligns the bytes of a partial block; every CPU with VAES
// has it.
var useVAES256 = cpu.X86.HasVAES && cpu.X86.HasVPCLMULQDQ && cpu.X86.HasAVX2 && cpu.X86.HasBMI2

// vaes256Available is useVAES256 as detected, before any impl.Select.
var vaes256Available = useVAES256

// sealVAES and openVAES run the enabled VAES kernel, VAES-512 first, with
// the kernels' contract: len(dst) >= len(src), tag receives the GCM tag.
func (h *gcmAsm) sealVAES(j0 *[16]byte, dst, src, ad []byte, tag *[16]byte) {
	if useVAES512 {
		gcmSealVAES512(&h.rk, h.nr, &h.htab, j0, dst, src, ad, tag)
		return
	}
	gcmSealVAES256(&h.rk, h.nr, &h.htab, j0, dst, src, ad, tag)
}

func (h *gcmAsm) openVAES(j0 *[16]byte, dst, src, ad []byte, tag *[16]byte) {
	if useVAES512 {
		gcmOpenVAES512(&h.rk, h.nr, &h.htab, j0, dst, src, ad, tag)
		return
	}
	gcmOpenVAES256(&h.rk, h.nr, &h.htab, j0, dst, src, ad, tag)
}
