package ctaes

// The bitsliced core, in the layout of BearSSL's aes_ct64: four blocks are
// held in eight 64-bit words, word i carrying bit i of every byte of every
// block. Every operation below is a fixed sequence of word-wide logic and
// shifts; nothing indexes memory by, or branches on, data or key.

// ortho transposes q between the interleaved byte form and the bitsliced
// form. It is its own inverse.
func ortho(q *[8]uint64) {
	const (
		cl2, ch2 = 0x5555555555555555, 0xAAAAAAAAAAAAAAAA
		cl4, ch4 = 0x3333333333333333, 0xCCCCCCCCCCCCCCCC
		cl8, ch8 = 0x0F0F0F0F0F0F0F0F, 0xF0F0F0F0F0F0F0F0
	)
	q0, q1, q2, q3, q4, q5, q6, q7 := q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7]

	q0, q1 = q0&cl2|(q1&cl2)<<1, (q0&ch2)>>1|q1&ch2
	q2, q3 = q2&cl2|(q3&cl2)<<1, (q2&ch2)>>1|q3&ch2
	q4, q5 = q4&cl2|(q5&cl2)<<1, (q4&ch2)>>1|q5&ch2
	q6, q7 = q6&cl2|(q7&cl2)<<1, (q6&ch2)>>1|q7&ch2

	q0, q2 = q0&cl4|(q2&cl4)<<2, (q0&ch4)>>2|q2&ch4
	q1, q3 = q1&cl4|(q3&cl4)<<2, (q1&ch4)>>2|q3&ch4
	q4, q6 = q4&cl4|(q6&cl4)<<2, (q4&ch4)>>2|q6&ch4
	q5, q7 = q5&cl4|(q7&cl4)<<2, (q5&ch4)>>2|q7&ch4

	q0, q4 = q0&cl8|(q4&cl8)<<4, (q0&ch8)>>4|q4&ch8
	q1, q5 = q1&cl8|(q5&cl8)<<4, (q1&ch8)>>4|q5&ch8
	q2, q6 = q2&cl8|(q6&cl8)<<4, (q2&ch8)>>4|q6&ch8
	q3, q7 = q3&cl8|(q7&cl8)<<4, (q3&ch8)>>4|q7&ch8

	q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7] = q0, q1, q2, q3, q4, q5, q6, q7
}

// interleaveIn spreads one block, given as four little-endian 32-bit words,
// over two words: bytes 0,2 of each word go to q0 and bytes 1,3 to q1.
func interleaveIn(w0, w1, w2, w3 uint32) (q0, q1 uint64) {
	x0, x1, x2, x3 := uint64(w0), uint64(w1), uint64(w2), uint64(w3)
	x0 |= x0 << 16
	x1 |= x1 << 16
	x2 |= x2 << 16
	x3 |= x3 << 16
	x0 &= 0x0000FFFF0000FFFF
	x1 &= 0x0000FFFF0000FFFF
	x2 &= 0x0000FFFF0000FFFF
	x3 &= 0x0000FFFF0000FFFF
	x0 |= x0 << 8
	x1 |= x1 << 8
	x2 |= x2 << 8
	x3 |= x3 << 8
	x0 &= 0x00FF00FF00FF00FF
	x1 &= 0x00FF00FF00FF00FF
	x2 &= 0x00FF00FF00FF00FF
	x3 &= 0x00FF00FF00FF00FF
	return x0 | x2<<8, x1 | x3<<8
}

// interleaveOut is the inverse of interleaveIn.
func interleaveOut(q0, q1 uint64) (w0, w1, w2, w3 uint32) {
	x0 := q0 & 0x00FF00FF00FF00FF
	x1 := q1 & 0x00FF00FF00FF00FF
	x2 := (q0 >> 8) & 0x00FF00FF00FF00FF
	x3 := (q1 >> 8) & 0x00FF00FF00FF00FF
	x0 |= x0 >> 8
	x1 |= x1 >> 8
	x2 |= x2 >> 8
	x3 |= x3 >> 8
	x0 &= 0x0000FFFF0000FFFF
	x1 &= 0x0000FFFF0000FFFF
	x2 &= 0x0000FFFF0000FFFF
	x3 &= 0x0000FFFF0000FFFF
	return uint32(x0) | uint32(x0>>16), uint32(x1) | uint32(x1>>16),
		uint32(x2) | uint32(x2>>16), uint32(x3) | uint32(x3>>16)
}

// sbox applies the AES S-box to every byte of q, with the depth-16 circuit of
// Boyar and Peralta (113 gates: XOR, XNOR and AND only).
func sbox(q *[8]uint64) {
	x0, x1, x2, x3, x4, x5, x6, x7 := q[7], q[6], q[5], q[4], q[3], q[2], q[1], q[0]

	// Top linear transformation.
	y14 := x3 ^ x5
	y13 := x0 ^ x6
	y9 := x0 ^ x3
	y8 := x0 ^ x5
	t0 := x1 ^ x2
	y1 := t0 ^ x7
	y4 := y1 ^ x3
	y12 := y13 ^ y14
	y2 := y1 ^ x0
	y5 := y1 ^ x6
	y3 := y5 ^ y8
	t1 := x4 ^ y12
	y15 := t1 ^ x5
	y20 := t1 ^ x1
	y6 := y15 ^ x7
	y10 := y15 ^ t0
	y11 := y20 ^ y9
	y7 := x7 ^ y11
	y17 := y10 ^ y11
	y19 := y10 ^ y8
	y16 := t0 ^ y11
	y21 := y13 ^ y16
	y18 := x0 ^ y16

	// Non-linear section.
	t2 := y12 & y15
	t3 := y3 & y6
	t4 := t3 ^ t2
	t5 := y4 & x7
	t6 := t5 ^ t2
	t7 := y13 & y16
	t8 := y5 & y1
	t9 := t8 ^ t7
	t10 := y2 & y7
	t11 := t10 ^ t7
	t12 := y9 & y11
	t13 := y14 & y17
	t14 := t13 ^ t12
	t15 := y8 & y10
	t16 := t15 ^ t12
	t17 := t4 ^ t14
	t18 := t6 ^ t16
	t19 := t9 ^ t14
	t20 := t11 ^ t16
	t21 := t17 ^ y20
	t22 := t18 ^ y19
	t23 := t19 ^ y21
	t24 := t20 ^ y18

	t25 := t21 ^ t22
	t26 := t21 & t23
	t27 := t24 ^ t26
	t28 := t25 & t27
	t29 := t28 ^ t22
	t30 := t23 ^ t24
	t31 := t22 ^ t26
	t32 := t31 & t30
	t33 := t32 ^ t24
	t34 := t23 ^ t33
	t35 := t27 ^ t33
	t36 := t24 & t35
	t37 := t36 ^ t34
	t38 := t27 ^ t36
	t39 := t29 & t38
	t40 := t25 ^ t39

	t41 := t40 ^ t37
	t42 := t29 ^ t33
	t43 := t29 ^ t40
	t44 := t33 ^ t37
	t45 := t42 ^ t41
	z0 := t44 & y15
	z1 := t37 & y6
	z2 := t33 & x7
	z3 := t43 & y16
	z4 := t40 & y1
	z5 := t29 & y7
	z6 := t42 & y11
	z7 := t45 & y17
	z8 := t41 & y10
	z9 := t44 & y12
	z10 := t37 & y3
	z11 := t33 & y4
	z12 := t43 & y13
	z13 := t40 & y5
	z14 := t29 & y2
	z15 := t42 & y9
	z16 := t45 & y14
	z17 := t41 & y8

	// Bottom linear transformation.
	t46 := z15 ^ z16
	t47 := z10 ^ z11
	t48 := z5 ^ z13
	t49 := z9 ^ z10
	t50 := z2 ^ z12
	t51 := z2 ^ z5
	t52 := z7 ^ z8
	t53 := z0 ^ z3
	t54 := z6 ^ z7
	t55 := z16 ^ z17
	t56 := z12 ^ t48
	t57 := t50 ^ t53
	t58 := z4 ^ t46
	t59 := z3 ^ t54
	t60 := t46 ^ t57
	t61 := z14 ^ t57
	t62 := t52 ^ t58
	t63 := t49 ^ t58
	t64 := z4 ^ t59
	t65 := t61 ^ t62
	t66 := z1 ^ t63
	s0 := t59 ^ t63
	s6 := t56 ^ ^t62
	s7 := t48 ^ ^t60
	t67 := t64 ^ t65
	s3 := t53 ^ t66
	s4 := t51 ^ t66
	s5 := t47 ^ t65
	s1 := t64 ^ ^s3
	s2 := t55 ^ ^t67

	q[7], q[6], q[5], q[4], q[3], q[2], q[1], q[0] = s0, s1, s2, s3, s4, s5, s6, s7
}

// invAffine applies the inverse of the S-box's affine map, which turns the
// forward S-box circuit into the inverse one: S⁻¹ = A⁻¹ ∘ S ∘ A⁻¹.
func invAffine(q *[8]uint64) {
	q0, q1, q2, q3, q4, q5, q6, q7 := ^q[0], ^q[1], q[2], q[3], q[4], ^q[5], ^q[6], q[7]
	q[7] = q1 ^ q4 ^ q6
	q[6] = q0 ^ q3 ^ q5
	q[5] = q7 ^ q2 ^ q4
	q[4] = q6 ^ q1 ^ q3
	q[3] = q5 ^ q0 ^ q2
	q[2] = q4 ^ q7 ^ q1
	q[1] = q3 ^ q6 ^ q0
	q[0] = q2 ^ q5 ^ q7
}

// invSbox applies the inverse AES S-box to every byte of q.
func invSbox(q *[8]uint64) {
	invAffine(q)
	sbox(q)
	invAffine(q)
}

func addRoundKey(q *[8]uint64, sk []uint64) {
	sk = sk[:8]
	q[0] ^= sk[0]
	q[1] ^= sk[1]
	q[2] ^= sk[2]
	q[3] ^= sk[3]
	q[4] ^= sk[4]
	q[5] ^= sk[5]
	q[6] ^= sk[6]
	q[7] ^= sk[7]
}

func shiftRows1(x uint64) uint64 {
	return x&0x000000000000FFFF |
		(x&0x00000000FFF00000)>>4 | (x&0x00000000000F0000)<<12 |
		(x&0x0000FF0000000000)>>8 | (x&0x000000FF00000000)<<8 |
		(x&0xF000000000000000)>>12 | (x&0x0FFF000000000000)<<4
}

func shiftRows(q *[8]uint64) {
	for i := range q {
		q[i] = shiftRows1(q[i])
	}
}

func invShiftRows1(x uint64) uint64 {
	return x&0x000000000000FFFF |
		(x&0x000000000FFF0000)<<4 | (x&0x00000000F0000000)>>12 |
		(x&0x000000FF00000000)<<8 | (x&0x0000FF0000000000)>>8 |
		(x&0x000F000000000000)<<12 | (x&0xFFF0000000000000)>>4
}

func invShiftRows(q *[8]uint64) {
	for i := range q {
		q[i] = invShiftRows1(q[i])
	}
}

func rotr32(x uint64) uint64 { return x<<32 | x>>32 }
func rotr16(x uint64) uint64 { return x<<48 | x>>16 }

func mixColumns(q *[8]uint64) {
	q0, q1, q2, q3, q4, q5, q6, q7 := q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7]
	r0, r1, r2, r3 := rotr16(q0), rotr16(q1), rotr16(q2), rotr16(q3)
	r4, r5, r6, r7 := rotr16(q4), rotr16(q5), rotr16(q6), rotr16(q7)

	q[0] = q7 ^ r7 ^ r0 ^ rotr32(q0^r0)
	q[1] = q0 ^ r0 ^ q7 ^ r7 ^ r1 ^ rotr32(q1^r1)
	q[2] = q1 ^ r1 ^ r2 ^ rotr32(q2^r2)
	q[3] = q2 ^ r2 ^ q7 ^ r7 ^ r3 ^ rotr32(q3^r3)
	q[4] = q3 ^ r3 ^ q7 ^ r7 ^ r4 ^ rotr32(q4^r4)
	q[5] = q4 ^ r4 ^ r5 ^ rotr32(q5^r5)
	q[6] = q5 ^ r5 ^ r6 ^ rotr32(q6^r6)
	q[7] = q6 ^ r6 ^ r7 ^ rotr32(q7^r7)
}

func invMixColumns(q *[8]uint64) {
	q0, q1, q2, q3, q4, q5, q6, q7 := q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7]
	r0, r1, r2, r3 := rotr16(q0), rotr16(q1), rotr16(q2), rotr16(q3)
	r4, r5, r6, r7 := rotr16(q4), rotr16(q5), rotr16(q6), rotr16(q7)

	q[0] = q5 ^ q6 ^ q7 ^ r0 ^ r5 ^ r7 ^ rotr32(q0^q5^q6^r0^r5)
	q[1] = q0 ^ q5 ^ r0 ^ r1 ^ r5 ^ r6 ^ r7 ^ rotr32(q1^q5^q7^r1^r5^r6)
	q[2] = q0 ^ q1 ^ q6 ^ r1 ^ r2 ^ r6 ^ r7 ^ rotr32(q0^q2^q6^r2^r6^r7)
	q[3] = q0 ^ q1 ^ q2 ^ q5 ^ q6 ^ r0 ^ r2 ^ r3 ^ r5 ^ rotr32(q0^q1^q3^q5^q6^q7^r0^r3^r5^r7)
	q[4] = q1 ^ q2 ^ q3 ^ q5 ^ r1 ^ r3 ^ r4 ^ r5 ^ r6 ^ r7 ^ rotr32(q1^q2^q4^q5^q7^r1^r4^r5^r6)
	q[5] = q2 ^ q3 ^ q4 ^ q6 ^ r2 ^ r4 ^ r5 ^ r6 ^ r7 ^ rotr32(q2^q3^q5^q6^r2^r5^r6^r7)
	q[6] = q3 ^ q4 ^ q5 ^ q7 ^ r3 ^ r5 ^ r6 ^ r7 ^ rotr32(q3^q4^q6^q7^r3^r6^r7)
	q[7] = q4 ^ q5 ^ q6 ^ r4 ^ r6 ^ r7 ^ rotr32(q4^q5^q7^r4^r7)
}

// encrypt4 runs the cipher on the four bitsliced blocks of q; sk holds
// 8·(rounds+1) words.
func encrypt4(rounds int, sk []uint64, q *[8]uint64) {
	addRoundKey(q, sk[0:])
	for u := 1; u < rounds; u++ {
		sbox(q)
		shiftRows(q)
		mixColumns(q)
		addRoundKey(q, sk[u*8:])
	}
	sbox(q)
	shiftRows(q)
	addRoundKey(q, sk[rounds*8:])
}

// decrypt4 runs the inverse cipher on the four bitsliced blocks of q.
func decrypt4(rounds int, sk []uint64, q *[8]uint64) {
	addRoundKey(q, sk[rounds*8:])
	for u := rounds - 1; u > 0; u-- {
		invShiftRows(q)
		invSbox(q)
		addRoundKey(q, sk[u*8:])
		invMixColumns(q)
	}
	invShiftRows(q)
	invSbox(q)
	addRoundKey(q, sk[0:])
}
