#version 450
/* gram.comp: G = F F^T for a pack4 feature map F of c x (h*w), unnormalised, or one partial
 * sum of it over a range of pixels (gram_sum.comp adds the partials).
 *   binding 0  F [C4][N] vec4           input, N = h*w
 *   binding 1  G [S][C4][C4][4] vec4     output: block (i4, j4) as 4 columns; column jj holds
 *                                       G[4*i4 + 0..3][4*j4 + jj]. This is the weight layout of
 *                                       conv.comp with K = 1, so S = k (G - A) feeds the Gram
 *                                       backward (dF = S F) as a 1x1 convolution. With S > 1
 *                                       splits, split s writes its partial Gram at s*C4*C4*4.
 * Push constants: C4, N, S (pixel splits), CHUNK (pixels per split; the last may be shorter),
 *   G0 (first invocation of this dispatch: bw-ops.c splits big maps over several dispatches).
 * Spec constants: 0 local_size_x, 1 B = 4 (packs per side of an invocation's block).
 * Dispatch: x = ceil(S * T / local_size_x), T = NB (NB + 1) / 2 and NB = ceil(C4 / B): each
 * invocation owns one B x B block of 4x4 blocks in the upper triangle (bj >= bi) for one
 * split, sums it over its pixels in order (deterministic), and stores it and its transpose.
 *
 * Why this shape (docs/lavapipe-kernels.md): on lavapipe every SSBO load is a scalar loop over
 * lanes, so loads per FMA decide the speed. A B x B block reads 2B vec4 per pixel (as u64
 * pairs, half the scalar loads of vec4) for B*B*4 vec4 FMAs: 16x fewer loads per FMA than one
 * 4x4 block with vec4 loads at B = 4. Mirroring halves the work; splitting the pixels keeps
 * enough invocations for small channel counts (relu1_1: C4 = 16 gives only 10 blocks).
 * Lanes past the end compute a clamped duplicate and skip the store; lanes whose packs run past
 * C4 (c not a multiple of 4B) load a clamped pack and skip those stores.
 * Built three times (shaders/meson.build): gram, gram_noint64 (USE_INT64 = 0) and gram_texel
 * (TEXEL = 1: F bound as an rgba32f storage texel buffer, for bw_device_has_texel_loads()).
 */
#ifndef USE_INT64
#define USE_INT64 1
#endif
#extension GL_EXT_control_flow_attributes : require
#if USE_INT64
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#endif

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int B = 4;

#ifndef TEXEL
#define TEXEL 0
#endif
#if TEXEL
/* gram_texel: F read through an rgba32f storage texel buffer (bw_device_has_texel_loads()) */
layout(binding = 0, rgba32f) uniform readonly imageBuffer ftex;
#define LOADF(i) imageLoad(ftex, (i))
#else
layout(std430, binding = 0) readonly buffer FBuf { vec4 f[]; };
#endif
#if TEXEL
#elif USE_INT64
layout(std430, binding = 0) readonly buffer FBuf64 { u64vec2 f64[]; };
vec4 u2f(u64vec2 a) { return vec4(uintBitsToFloat(unpackUint2x32(a.x)), uintBitsToFloat(unpackUint2x32(a.y))); }
#define LOADF(i) u2f(f64[i])
#else
#define LOADF(i) f[i]
#endif
layout(std430, binding = 1) writeonly buffer GBuf { vec4 g[]; };

layout(push_constant) uniform Params { int C4; int N; int S; int CHUNK; int G0; } p;

void main()
{
    const int nb = (p.C4 + B - 1) / B;
    const int ntri = nb * (nb + 1) / 2;
    const int gid0 = int(gl_GlobalInvocationID.x) + p.G0;
    const bool live = gid0 < ntri * p.S;
    const int gid = min(gid0, ntri * p.S - 1);
    const int s = gid / ntri;
    int t = gid - s * ntri;
    int bi = 0;
    while (t >= nb - bi) {           /* row bi of the triangle holds nb - bi blocks */
        t -= nb - bi;
        bi++;
    }
    const int bj = bi + t;
    const int n0 = s * p.CHUNK;
    const int n1 = min(n0 + p.CHUNK, p.N);

    int ib[B], jb[B];
    [[unroll]] for (int q = 0; q < B; q++) {
        ib[q] = min(bi * B + q, p.C4 - 1) * p.N;
        jb[q] = min(bj * B + q, p.C4 - 1) * p.N;
    }
    vec4 acc[B][B][4];
    [[unroll]] for (int i = 0; i < B; i++)
    [[unroll]] for (int j = 0; j < B; j++)
    [[unroll]] for (int c = 0; c < 4; c++)
        acc[i][j][c] = vec4(0.0);

    for (int n = n0; n < n1; n++) {
        vec4 a[B], b[B];
        [[unroll]] for (int q = 0; q < B; q++) {
            a[q] = LOADF(ib[q] + n);
            b[q] = LOADF(jb[q] + n);
        }
        [[unroll]] for (int i = 0; i < B; i++)
        [[unroll]] for (int j = 0; j < B; j++) {
            acc[i][j][0] += a[i] * b[j].x;
            acc[i][j][1] += a[i] * b[j].y;
            acc[i][j][2] += a[i] * b[j].z;
            acc[i][j][3] += a[i] * b[j].w;
        }
    }

    if (!live)
        return;
    const int base = s * p.C4 * p.C4;
    [[unroll]] for (int i = 0; i < B; i++)
    [[unroll]] for (int j = 0; j < B; j++) {
        const int i4 = bi * B + i, j4 = bj * B + j;
        if (i4 >= p.C4 || j4 >= p.C4)
            continue;
        const int blk = base + i4 * p.C4 + j4;
        [[unroll]] for (int c = 0; c < 4; c++)
            g[blk * 4 + c] = acc[i][j][c];
        /* the mirror block (j4, i4) is this one transposed; a diagonal B x B block holds both */
        if (bi != bj) {
            const int mir = base + j4 * p.C4 + i4;
            [[unroll]] for (int r = 0; r < 4; r++)
                g[mir * 4 + r] = vec4(acc[i][j][0][r], acc[i][j][1][r], acc[i][j][2][r], acc[i][j][3][r]);
        }
    }
}
