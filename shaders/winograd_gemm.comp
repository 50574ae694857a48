#version 450
/* winograd_gemm.comp: the NP independent products of the Winograd F(MxM, 3x3) convolution,
 * M[p] = U[p] V[p] with U[p]: OC x IC, V[p]: IC x T, for positions p = 0..NP-1 (NP = (M+2)^2:
 * 36 for F(4x4, 3x3), 64 for F(6x6, 3x3)).
 *   binding 0  V [NP][IC4][T] vec4           transformed input (winograd_in.comp)
 *   binding 1  U [NP][OC4][IC4][4] vec4      transformed weights (bw_ops_pack_winograd_weights);
 *                                            column j of each 4x4 block maps input lane j
 *                                            to the 4 output lanes, as in conv.comp
 *   binding 2  M [NP][OC4][T] vec4           output, for winograd_out.comp
 * Push constants: T (the rows' length), IC4, OC4, T0 and N: this dispatch takes tiles T0 ..
 * T0 + N - 1 of each row; O0 and O1: and output packs O0 .. O1 - 1, with M bound from pack O0
 * (NP = 1: a map larger than one binding is written a range of packs at a time; else 0, OC4).
 * Spec constants: 0 local_size_x, 1 TO output packs, 2 TT tiles per invocation (bw-ops.c),
 * 3 NP positions, 4 FLIP. With NP = 1 it is a 1x1 convolution of a pack4 map [IC4][H*W]
 * (bw_ops_conv).
 * FLIP (F(6x6, 3x3) only): U holds the weights of the forward conv whose input gradient this is,
 * [NP][IC4][OC4][4] (its output packs are this conv's input packs). The transposed-flipped
 * kernel's transform at position (a, b) is s(a) s(b) U[f(a), f(b)] transposed, f and s from the
 * points 0, 1, -1, 2, -2, 1/2, -1/2, inf: f swaps 0 and inf, 2 and 1/2, -2 and -1/2; s is 1/16
 * for 2 and -2, 16 for 1/2 and -1/2, 1 else. s is a power of two, so scaling the product
 * instead of the weights rounds nothing: the result is what transformed transposed-flipped
 * weights give, up to the last bit of a few weights (bw_ops_pack_winograd_weights() sums the
 * nine taps in double, in another order for the flipped kernel).
 * Dispatch: x = ceil(NP * ceil(N / TT) / local_size_x), y = ceil(OC4 / TO), z = 1: the x index
 * runs over (position, group of TT tiles), so a map of few tiles (conv4/conv5 at 512 px has
 * 48-192) still fills every lane of a subgroup; lanes of one subgroup may read different
 * positions' weights, which costs nothing extra on lavapipe, where every load is per lane.
 *
 * Built like conv.comp for lavapipe (docs/lavapipe-kernels.md): lanes over tiles, a TO x TT
 * register tile so that each 4x4 weight block (2 u64vec4 loads) feeds TT vec4 FMAs per column,
 * u64 loads, all lanes load (clamped) and only live ones store. Built again with TEXEL = 1
 * (winograd_gemm_texel, shaders/meson.build): V and U bound as rgba32f storage texel buffers
 * and read with imageLoad, which lavapipe does in a third of the time of the u64 loads
 * (bw_device_has_texel_loads(): CPU devices).
 * REQUIREMENT: shaderInt64 (without it bw-ops.c takes the direct conv.comp instead).
 */
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require

#ifndef TEXEL
#define TEXEL 0
#endif

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int TO = 4;
layout(constant_id = 2) const int TT = 32;
layout(constant_id = 3) const int NP = 36;
layout(constant_id = 4) const bool FLIP = false;
#define KU 2   /* input packs per turn of main()'s loop (below) */

#if TEXEL
/* winograd_gemm_texel: V and U read as rgba32f storage texel buffers, whose imageLoad costs
 * lavapipe a third of an SSBO load of the same bytes (docs/lavapipe-kernels.md) */
layout(binding = 0, rgba32f) uniform readonly imageBuffer vtex;
layout(binding = 1, rgba32f) uniform readonly imageBuffer utex;
#define LOAD_V(i) imageLoad(vtex, (i))
#else
layout(std430, binding = 0) readonly buffer VBuf64 { u64vec2 v64[]; };
layout(std430, binding = 1) readonly buffer UBuf64 { u64vec4 u64[]; };
#define LOAD_V(i) u2f(v64[(i)])
#endif
layout(std430, binding = 2) writeonly buffer MBuf { vec4 m[]; };

layout(push_constant) uniform Params { int T; int IC4; int OC4; int T0; int N; int O0; int O1; } p;

vec4 u2f(u64vec2 a) { return vec4(uintBitsToFloat(unpackUint2x32(a.x)), uintBitsToFloat(unpackUint2x32(a.y))); }

/* f and s of one coordinate (FLIP, above): points 0, 1, -1, 2, -2, 1/2, -1/2, inf */
int flip_point(int a)
{
    return a == 0 ? 7 : a == 7 ? 0 : a == 3 ? 5 : a == 5 ? 3 : a == 4 ? 6 : a == 6 ? 4 : a;
}

float flip_scale(int a)
{
    return a == 3 || a == 4 ? 0.0625 : a == 5 || a == 6 ? 16.0 : 1.0;
}

void main()
{
    const int ngroups = (p.N + TT - 1) / TT;
    const int gid0 = int(gl_GlobalInvocationID.x);
    const bool live = gid0 < NP * ngroups;
    const int g = min(gid0, NP * ngroups - 1);
    const int pos = g / ngroups;
    const int t0 = p.T0 + (g - pos * ngroups) * TT;
    const int tend = p.T0 + p.N;
    const int o0 = int(gl_WorkGroupID.y) * TO + p.O0;
    const int vbase = pos * p.IC4 * p.T;

    vec4 acc[TO][TT];
    [[unroll]] for (int o = 0; o < TO; o++)
    [[unroll]] for (int t = 0; t < TT; t++)
        acc[o][t] = vec4(0.0);

    const int wpos = FLIP ? flip_point(pos / 8) * 8 + flip_point(pos % 8) : pos;
    /* KU input packs per iteration: lavapipe keeps the accumulators in memory and blends
     * every store to a loop-carried value with the loop's mask, so each is now loaded, blended
     * and stored once per 2 x 16 products (conv3_x/conv4_x forward 7 % faster; 4 packs: no
     * faster, the loop's code twice as big again). The sums keep the order of one pack per
     * iteration, so the results are the same bits (the parity tests' near-ties, bw-ops.c). A
     * last odd pack reads pack IC4 - 1 again with its inputs zeroed. */
    for (int i40 = 0; i40 < p.IC4; i40 += KU) {
        vec4 w[KU][TO][4];
        [[unroll]] for (int k = 0; k < KU; k++) {
            const int i4 = min(i40 + k, p.IC4 - 1);
            [[unroll]] for (int o = 0; o < TO; o++) {
                /* block (pos, o, i4) starts at vec4 4*((pos*OC4 + o)*IC4 + i4): u64vec4 index /2;
                 * flipped, the forward's block (wpos, i4, o) */
                const int oc = min(o0 + o, p.OC4 - 1);
                const int wb = 2 * (FLIP ? (wpos * p.IC4 + i4) * p.OC4 + oc
                                         : (pos * p.OC4 + oc) * p.IC4 + i4);
#if TEXEL
                w[k][o][0] = imageLoad(utex, 2 * wb); w[k][o][1] = imageLoad(utex, 2 * wb + 1);
                w[k][o][2] = imageLoad(utex, 2 * wb + 2); w[k][o][3] = imageLoad(utex, 2 * wb + 3);
#else
                const u64vec4 a = u64[wb], b = u64[wb + 1];
                w[k][o][0] = u2f(a.xy); w[k][o][1] = u2f(a.zw);
                w[k][o][2] = u2f(b.xy); w[k][o][3] = u2f(b.zw);
#endif
                if (FLIP) {
                    const vec4 c0 = w[k][o][0], c1 = w[k][o][1], c2 = w[k][o][2], c3 = w[k][o][3];
                    w[k][o][0] = vec4(c0.x, c1.x, c2.x, c3.x); w[k][o][1] = vec4(c0.y, c1.y, c2.y, c3.y);
                    w[k][o][2] = vec4(c0.z, c1.z, c2.z, c3.z); w[k][o][3] = vec4(c0.w, c1.w, c2.w, c3.w);
                }
            }
        }
        [[unroll]] for (int t = 0; t < TT; t++) {
            vec4 x[KU];
            [[unroll]] for (int k = 0; k < KU; k++) {
                const int i4 = min(i40 + k, p.IC4 - 1);
                x[k] = LOAD_V(vbase + i4 * p.T + min(t0 + t, tend - 1));
                if (k > 0)
                    x[k] = i40 + k < p.IC4 ? x[k] : vec4(0.0);
            }
            [[unroll]] for (int o = 0; o < TO; o++) {
                vec4 a = acc[o][t];
                [[unroll]] for (int k = 0; k < KU; k++)
                    a += w[k][o][0] * x[k].x + w[k][o][1] * x[k].y + w[k][o][2] * x[k].z
                       + w[k][o][3] * x[k].w;
                acc[o][t] = a;
            }
        }
    }

    if (!live)
        return;
    const float scale = FLIP ? flip_scale(pos / 8) * flip_scale(pos % 8) : 1.0;
    [[unroll]] for (int o = 0; o < TO; o++) {
        const int o4 = o0 + o;
        if (o4 >= p.O1)
            break;
        [[unroll]] for (int t = 0; t < TT; t++) {
            if (t0 + t >= tend)
                break;
            m[(pos * p.OC4 + o4 - p.O0) * p.T + t0 + t] = acc[o][t] * scale;
        }
    }
}
