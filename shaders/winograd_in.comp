#version 450
/* winograd_in.comp: input transform of the Winograd F(MxM, 3x3) convolution (winograd_gemm.comp,
 * winograd_out.comp): V = B^T d B for each ALPHAxALPHA input patch d of each MxM output tile, ALPHA = M + 2.
 * Built for M = 4 (winograd_in) and M = 6 (winograd63_in), each also with TEXEL = 1 (X read
 * through a storage texel buffer, V written as u64 pairs, which needs shaderInt64:
 * winograd_in_texel, winograd63_in_texel; shaders/meson.build).
 *   binding 0  X [IC4][H][W] vec4         input (pack4), zero padding of 1 around it
 *   binding 1  V [ALPHA*ALPHA][IC4][T] vec4       output: position p = ALPHA*a + b of tile T0 + t of the
 *                                         image, whose tiles are numbered ty*TW + tx,
 *                                         TW = ceil(W/M); T tiles from T0 (a chunk: bw-ops.c
 *                                         splits big maps so that V fits a buffer)
 * Push constants: H, W, IC4, TW, T, T0.
 * Dispatch: x = ceil(T / local_size_x), y = IC4. Tile ty*TW + tx reads rows M*ty-1 .. M*ty+M and
 * columns M*tx-1 .. M*tx+M (zero outside the image).
 * B^T for M = 4 (Lavin and Gray, points 0, +-1, +-2):
 *   [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 * B^T for M = 6 (points 0, +-1, +-2, +-1/2, as NNPACK):
 *   [1 0 -21/4 0 21/4 0 -1 0; 0 1 1 -17/4 -17/4 1 1 0; 0 -1 1 17/4 -17/4 -1 1 0;
 *    0 1/2 1/4 -5/2 -5/4 2 1 0; 0 -1/2 1/4 5/2 -5/4 -2 1 0; 0 2 4 -5/2 -5 1/2 1 0;
 *    0 -2 4 5/2 -5 -1/2 1 0; 0 -1 0 21/4 0 -21/4 0 1]
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

#if TEXEL
/* X read through an rgba32f texel view where the device has them (bw_device_has_texel_loads():
 * on lavapipe a third of an SSBO load's cost), unconditionally at a clamped index; V written
 * as u64 pairs, which lavapipe stores in two-thirds of a vec4 store's time */
layout(binding = 0, rgba32f) uniform readonly imageBuffer xtex;
layout(std430, binding = 1) writeonly buffer VBuf64 { u64vec2 v64[]; };
#define STORE_V(i, a) v64[(i)] = u64vec2(packUint2x32(floatBitsToUint((a).xy)), packUint2x32(floatBitsToUint((a).zw)))
#else
layout(std430, binding = 0) readonly buffer XBuf { vec4 x[]; };
layout(std430, binding = 1) writeonly buffer VBuf { vec4 v[]; };
#define STORE_V(i, a) v[(i)] = (a)
#endif

layout(push_constant) uniform Params { int H; int W; int IC4; int TW; int T; int T0; } p;

#if M == 6
void bt(inout vec4 d[8])
{
    const vec4 t0 = d[0] - d[6] + 5.25 * (d[4] - d[2]);
    const vec4 t7 = d[7] - d[1] + 5.25 * (d[3] - d[5]);
    const vec4 a = d[2] + d[6] - 4.25 * d[4], b = d[1] + d[5] - 4.25 * d[3];
    const vec4 c = d[6] + 0.25 * d[2] - 1.25 * d[4], e = 0.5 * d[1] - 2.5 * d[3] + 2.0 * d[5];
    const vec4 f = d[6] + 4.0 * d[2] - 5.0 * d[4], g = 2.0 * d[1] - 2.5 * d[3] + 0.5 * d[5];
    d[0] = t0; d[1] = a + b; d[2] = a - b; d[3] = c + e; d[4] = c - e;
    d[5] = f + g; d[6] = f - g; d[7] = t7;
}
#else
void bt(inout vec4 d[6])
{
    const vec4 t0 = 4.0 * d[0] - 5.0 * d[2] + d[4];
    const vec4 t1 = -4.0 * (d[1] + d[2]) + d[3] + d[4];
    const vec4 t2 = 4.0 * (d[1] - d[2]) - d[3] + d[4];
    const vec4 t3 = 2.0 * (d[3] - d[1]) - d[2] + d[4];
    const vec4 t4 = 2.0 * (d[1] - d[3]) - d[2] + d[4];
    const vec4 t5 = 4.0 * d[1] - 5.0 * d[3] + d[5];
    d[0] = t0; d[1] = t1; d[2] = t2; d[3] = t3; d[4] = t4; d[5] = t5;
}
#endif

void main()
{
    const int t = int(gl_GlobalInvocationID.x);
    const int i4 = int(gl_WorkGroupID.y);
    if (t >= p.T)
        return;
    const int ty = (p.T0 + t) / p.TW;
    const int y0 = M * ty - 1, x0 = M * (p.T0 + t - ty * p.TW) - 1;
    const int base = i4 * p.H * p.W;

    vec4 d[ALPHA][ALPHA];
    [[unroll]] for (int r = 0; r < ALPHA; r++)
    [[unroll]] for (int c = 0; c < ALPHA; c++) {
        const int iy = y0 + r, ix = x0 + c;
        const bool inside = iy >= 0 && iy < p.H && ix >= 0 && ix < p.W;
#if TEXEL
        const vec4 val = imageLoad(xtex, base + clamp(iy, 0, p.H - 1) * p.W + clamp(ix, 0, p.W - 1));
        d[r][c] = inside ? val : vec4(0.0);
#else
        d[r][c] = inside ? x[base + iy * p.W + ix] : vec4(0.0);
#endif
    }
    /* B^T d: the columns; then (B^T d) B: the rows */
    [[unroll]] for (int c = 0; c < ALPHA; c++) {
        vec4 col[ALPHA];
        [[unroll]] for (int r = 0; r < ALPHA; r++)
            col[r] = d[r][c];
        bt(col);
        [[unroll]] for (int r = 0; r < ALPHA; r++)
            d[r][c] = col[r];
    }
    [[unroll]] for (int r = 0; r < ALPHA; r++) {
        bt(d[r]);
        [[unroll]] for (int c = 0; c < ALPHA; c++)
            STORE_V(((r * ALPHA + c) * p.IC4 + i4) * p.T + t, d[r][c]);
    }
}
