#version 450
/* winograd_out.comp: output transform of the Winograd F(MxM, 3x3) convolution, Y = A^T M A for
 * each MxM output tile, with conv.comp's epilogue fused: y = mask(relu(Y + bias + addend)).
 * Built for M = 4 (winograd_out) and M = 6 (winograd63_out), ALPHA = M + 2, each also with
 * TEXEL = 1 (M, A and K read through storage texel buffers, Y written as u64 pairs, which
 * needs shaderInt64: winograd_out_texel, winograd63_out_texel).
 *   binding 0  M [ALPHA*ALPHA][OC4][T] vec4    products (winograd_gemm.comp) of the T tiles from T0
 *                                      (tiles numbered ty*TW + tx, TW = ceil(W/M))
 *   binding 1  B [OC4]                 bias (read only when BIAS)
 *   binding 2  A [OC4][H][W]           addend, added before the mask (read only when ADD)
 *   binding 3  K [OC4][H][W]           mask: output is zeroed where K <= 0 (only when MASK)
 *   binding 4  Y [OC4][H][W]           output (pixels past the image edge are not stored)
 * Push constants: H, W, OC4, TW, T, T0, O0: this dispatch makes output packs O0 .. O0 + groups
 * in y - 1, and Y (A and K too, where they are storage buffers) is bound from pack O0, so that
 * a map larger than one binding is written a range of packs at a time (bw-ops-conv.c).
 * Spec constants: 0 local_size_x, 1 BIAS, 2 ADD, 3 RELU, 4 MASK.
 * Dispatch: x = ceil(T / local_size_x), y = the range's packs.
 * A^T for M = 4: [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
 * A^T for M = 6: [1 1 1 1 1 1 1 0; 0 1 -1 2 -2 1/2 -1/2 0; 0 1 1 4 4 1/4 1/4 0;
 *                 0 1 -1 8 -8 1/8 -1/8 0; 0 1 1 16 16 1/16 1/16 0; 0 1 -1 32 -32 1/32 -1/32 1].
 */
#ifndef M
#define M 4
#endif
#ifndef TEXEL
#define TEXEL 0
#endif
#extension GL_EXT_control_flow_attributes : require
#if TEXEL
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#endif
#define ALPHA (M + 2)

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool BIAS = false;
layout(constant_id = 2) const bool ADD = false;
layout(constant_id = 3) const bool RELU = false;
layout(constant_id = 4) const bool MASK = false;

#if TEXEL
/* M, A and K read through rgba32f texel views (bw_device_has_texel_loads()) */
layout(binding = 0, rgba32f) uniform readonly imageBuffer mtex;
layout(binding = 2, rgba32f) uniform readonly imageBuffer atex;
layout(binding = 3, rgba32f) uniform readonly imageBuffer ktex;
#define LOAD_M(i) imageLoad(mtex, (i))
#define LOAD_A(i) imageLoad(atex, (i))
#define LOAD_K(i) imageLoad(ktex, (i))
#define AK_BASE 0   /* texel views start at pack 0 */
#else
layout(std430, binding = 0) readonly buffer MBuf { vec4 m[]; };
layout(std430, binding = 2) readonly buffer ABuf { vec4 addend[]; };
layout(std430, binding = 3) readonly buffer KBuf { vec4 mask[]; };
#define LOAD_M(i) m[(i)]
#define LOAD_A(i) addend[(i)]
#define LOAD_K(i) mask[(i)]
#define AK_BASE p.O0   /* bound from pack O0, as Y */
#endif
layout(std430, binding = 1) readonly buffer BBuf { vec4 bias[]; };
#if TEXEL
/* ... and Y written as u64 pairs, two-thirds of a vec4 store's time on lavapipe */
layout(std430, binding = 4) writeonly buffer YBuf64 { u64vec2 y64[]; };
#define STORE_Y(i, a) y64[(i)] = u64vec2(packUint2x32(floatBitsToUint((a).xy)), packUint2x32(floatBitsToUint((a).zw)))
#else
layout(std430, binding = 4) writeonly buffer YBuf { vec4 y[]; };
#define STORE_Y(i, a) y[(i)] = (a)
#endif

layout(push_constant) uniform Params { int H; int W; int OC4; int TW; int T; int T0; int O0; } p;

#if M == 6
void at(in vec4 s[8], out vec4 r[6])
{
    const vec4 a = s[1] + s[2], b = s[1] - s[2], c = s[3] + s[4], d = s[3] - s[4];
    const vec4 e = s[5] + s[6], f = s[5] - s[6];
    r[0] = s[0] + a + c + e;
    r[1] = b + 2.0 * d + 0.5 * f;
    r[2] = a + 4.0 * c + 0.25 * e;
    r[3] = b + 8.0 * d + 0.125 * f;
    r[4] = a + 16.0 * c + 0.0625 * e;
    r[5] = b + 32.0 * d + 0.03125 * f + s[7];
}
#else
void at(in vec4 s[6], out vec4 r[4])
{
    const vec4 a = s[1] + s[2], b = s[1] - s[2], c = s[3] + s[4], d = s[3] - s[4];
    r[0] = s[0] + a + c;
    r[1] = b + 2.0 * d;
    r[2] = a + 4.0 * c;
    r[3] = b + 8.0 * d + s[5];
}
#endif

void main()
{
    const int t = int(gl_GlobalInvocationID.x);
    const int o4 = int(gl_WorkGroupID.y) + p.O0;
    if (t >= p.T)
        return;
    const int ty = (p.T0 + t) / p.TW;
    const int y0 = M * ty, x0 = M * (p.T0 + t - ty * p.TW);

    /* A^T M: the columns, into an MxALPHA block; then its rows */
    vec4 h[M][ALPHA];
    [[unroll]] for (int c = 0; c < ALPHA; c++) {
        vec4 col[ALPHA], r[M];
        [[unroll]] for (int a = 0; a < ALPHA; a++)
            col[a] = LOAD_M(((a * ALPHA + c) * p.OC4 + o4) * p.T + t);
        at(col, r);
        [[unroll]] for (int a = 0; a < M; a++)
            h[a][c] = r[a];
    }
    const vec4 b = BIAS ? bias[o4] : vec4(0.0);
    [[unroll]] for (int a = 0; a < M; a++) {
        vec4 r[M];
        at(h[a], r);
        const int oy = y0 + a;
        if (oy >= p.H)
            break;
        [[unroll]] for (int c = 0; c < M; c++) {
            const int ox = x0 + c;
            if (ox >= p.W)
                break;
            const int px = oy * p.W + ox, plane = p.H * p.W;
            const int ak = (o4 - AK_BASE) * plane + px;
            vec4 v = r[c] + b;
            if (ADD)
                v += LOAD_A(ak);
            if (RELU)
                v = max(v, vec4(0.0));
            if (MASK)
                v = mix(vec4(0.0), v, greaterThan(LOAD_K(ak), vec4(0.0)));
            STORE_Y((o4 - p.O0) * plane + px, v);
        }
    }
}
