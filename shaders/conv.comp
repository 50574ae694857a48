#version 450
/* conv.comp: KxK convolution (K = 1 or 3), stride 1, zero padding K/2, on pack4 tensors,
 * with optional bias, residual addend, ReLU and multiplicative mask fused into the store.
 * Tuned for Mesa lavapipe (llvmpipe); the measurements behind it are in docs/lavapipe-kernels.md.
 *
 * Layout (unchanged; all buffers std430 arrays of vec4; pack4 = channels grouped by 4):
 *   binding 0  X  [IC4][H][W]            input, lane c of X[i4] is channel 4*i4 + c
 *   binding 1  Wt [OC4][IC4][K*K][4]     column j of each 4x4 block maps input lane j
 *                                        to the 4 output lanes: Y[o4] += sum_j Wt[..][j] * X[i4][j]
 *   binding 2  B  [OC4]                  bias (read only when BIAS)
 *   binding 3  A  [OC4][H][W]            addend, added before the mask (read only when ADD)
 *   binding 4  M  [OC4][H][W]            mask: output is zeroed where M <= 0 (only when MASK)
 *   binding 5  Y  [OC4][H][W]            output
 * Push constants: H, W, IC4, OC4, T0 (first tile of this dispatch: bw-ops.c splits big
 *   layers into several dispatches of bounded work), O0 and O1: this dispatch makes output
 *   packs O0 .. O1 - 1, with A, M and Y bound from pack O0 (a map larger than one binding is
 *   written a range of packs at a time).
 * Spec constants: 0 local_size_x, 1 K, 2 BIAS, 3 ADD, 4 RELU, 5 MASK (as before), and
 *   6 TO = 4  output packs per invocation
 *   7 TX = 8  pixels per invocation along x
 *   8 TY = 4  rows per invocation
 * Tile: each invocation computes TO output packs x a TY x TX block of pixels.
 * Dispatch (NEW formula):
 *   x = ceil( ceil(W / TX) * ceil(H / TY) / local_size_x ),  y = ceil(OC4 / TO),  z = 1,
 *   or a range of x per dispatch starting at tile T0.
 * Recommended local_size_x on lavapipe: 8 (one subgroup; wastes no lanes on small layers).
 *
 * REQUIREMENT: the SPIR-V uses 64-bit integers (Int64 capability): enable the device
 * feature shaderInt64 (lavapipe has it).  X and Wt are read through u64 views of the same
 * bindings, because every SSBO load in Mesa 22.3 gallivm is a scalar per-lane, per-component
 * loop: loading a vec4 as 2 x u64 halves the cost of each load.  Set USE_INT64 to 0 below
 * for a plain-vec4 build (about 1.5x slower on lavapipe, works without shaderInt64).
 *
 * All lanes run the whole loop (lanes past the end compute a clamped duplicate tile and skip
 * the store), so no lane is inactive during the loads.
 * Result: Y = mask(relu(conv(X, Wt) + B + A)) with each stage present only when enabled.
 *
 * Built again with TEXEL = 1 (conv_texel): X read through an rgba32f storage texel buffer, for
 * a map larger than one storage binding may hold (VGG19's conv1_1 input gradient at print
 * size on lavapipe, bw-ops-conv.c); the sums are the same.
 */
#ifndef TEXEL
#define TEXEL 0
#endif
#ifndef USE_INT64
#define USE_INT64 1
#endif
#extension GL_EXT_control_flow_attributes : require
#if USE_INT64
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#endif

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int K = 3;
layout(constant_id = 2) const bool BIAS = false;
layout(constant_id = 3) const bool ADD = false;
layout(constant_id = 4) const bool RELU = false;
layout(constant_id = 5) const bool MASK = false;
layout(constant_id = 6) const int TO = 4;
layout(constant_id = 7) const int TX = 8;
layout(constant_id = 8) const int TY = 4;

const int R = K / 2;
const int KK = K * K;

#if TEXEL
layout(binding = 0, rgba32f) uniform readonly imageBuffer xtex;
#define LOAD_X(i) imageLoad(xtex, (i))
#elif USE_INT64
layout(std430, binding = 0) readonly buffer XBuf64 { u64vec2 x64[]; };
#define LOAD_X(i) u2f(x64[(i)])
#else
layout(std430, binding = 0) readonly buffer XBuf { vec4 x[]; };
#define LOAD_X(i) x[(i)]
#endif
layout(std430, binding = 1) readonly buffer WBuf { vec4 wt[]; };
#if USE_INT64
layout(std430, binding = 1) readonly buffer WBuf64 { u64vec4 wt64[]; };
vec4 u2f(u64vec2 a) { return vec4(uintBitsToFloat(unpackUint2x32(a.x)), uintBitsToFloat(unpackUint2x32(a.y))); }
#endif
layout(std430, binding = 2) readonly buffer BBuf { vec4 bias[]; };
layout(std430, binding = 3) readonly buffer ABuf { vec4 addend[]; };
layout(std430, binding = 4) readonly buffer MBuf { vec4 mask[]; };
layout(std430, binding = 5) writeonly buffer YBuf { vec4 y[]; };

layout(push_constant) uniform Params { int H; int W; int IC4; int OC4; int T0; int O0; int O1; } p;

void main()
{
    const int tiles_x = (p.W + TX - 1) / TX;
    const int ntiles = tiles_x * ((p.H + TY - 1) / TY);
    const int gid0 = int(gl_GlobalInvocationID.x) + p.T0;
    const bool live = gid0 < ntiles;
    const int gid = min(gid0, ntiles - 1);
    const int ty = gid / tiles_x;
    const int oy0 = ty * TY;
    const int ox0 = (gid - ty * tiles_x) * TX;
    const int o0 = int(gl_WorkGroupID.y) * TO + p.O0;
    const int hw = p.H * p.W;
    const int xlast = p.IC4 * hw - 1;

    vec4 acc[TO][TY][TX];
    [[unroll]] for (int o = 0; o < TO; o++)
    [[unroll]] for (int r = 0; r < TY; r++)
    [[unroll]] for (int t = 0; t < TX; t++)
        acc[o][r][t] = vec4(0.0);

    for (int i4 = 0; i4 < p.IC4; i4++) {
        /* all TO * K*K 4x4 weight blocks of this input pack, loaded once */
        vec4 wv[TO][KK * 4];
        [[unroll]] for (int o = 0; o < TO; o++) {
            const int wb = (min(o0 + o, p.OC4 - 1) * p.IC4 + i4) * KK * 4;
#if USE_INT64
            [[unroll]] for (int e = 0; e < KK * 2; e++) {
                const u64vec4 a = wt64[wb / 2 + e];
                wv[o][2 * e] = u2f(a.xy);
                wv[o][2 * e + 1] = u2f(a.zw);
            }
#else
            [[unroll]] for (int e = 0; e < KK * 4; e++)
                wv[o][e] = wt[wb + e];
#endif
        }
        [[unroll]] for (int ry = 0; ry < TY + K - 1; ry++) {
            const int iy = oy0 + ry - R;
            const bool rok = iy >= 0 && iy < p.H;
            const int rbase = i4 * hw + iy * p.W;
            vec4 row[TX + K - 1];
            [[unroll]] for (int t = 0; t < TX + K - 1; t++) {
                const int ix = ox0 + t - R;
                /* unconditional clamped load, zero outside the image */
                const vec4 v = LOAD_X(clamp(rbase + ix, 0, xlast));
                row[t] = (rok && ix >= 0 && ix < p.W) ? v : vec4(0.0);
            }
            [[unroll]] for (int ky = 0; ky < K; ky++) {
                const int r = ry - ky;          /* tile row fed by input row ry through tap row ky */
                if (r < 0 || r >= TY)
                    continue;
                [[unroll]] for (int o = 0; o < TO; o++)
                [[unroll]] for (int kx = 0; kx < K; kx++) {
                    const int e = (ky * K + kx) * 4;
                    const vec4 w0 = wv[o][e], w1 = wv[o][e + 1], w2 = wv[o][e + 2], w3 = wv[o][e + 3];
                    [[unroll]] for (int t = 0; t < TX; t++) {
                        const vec4 v = row[t + kx];
                        acc[o][r][t] += w0 * v.x + w1 * v.y + w2 * v.z + w3 * v.w;
                    }
                }
            }
        }
    }

    if (!live)
        return;
    [[unroll]] for (int o = 0; o < TO; o++) {
        const int o4 = o0 + o;
        if (o4 >= p.O1)
            break;
        [[unroll]] for (int r = 0; r < TY; r++) {
            const int oy = oy0 + r;
            if (oy >= p.H)
                break;
            [[unroll]] for (int t = 0; t < TX; t++) {
                const int ox = ox0 + t;
                if (ox >= p.W)
                    break;
                const int idx = (o4 - p.O0) * hw + oy * p.W + ox;
                vec4 v = acc[o][r][t];
                if (BIAS)
                    v += bias[o4];
                if (ADD)
                    v += addend[idx];
                if (RELU)
                    v = max(v, vec4(0.0));
                if (MASK)
                    v = mix(vec4(0.0), v, greaterThan(mask[idx], vec4(0.0)));
                y[idx] = v;
            }
        }
    }
}
