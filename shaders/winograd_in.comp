#version 450
/* winograd_in.comp: input transform of the Winograd F(4x4, 3x3) convolution (winograd_gemm.comp,
 * winograd_out.comp): V = B^T d B for each 6x6 input patch d of each 4x4 output tile.
 *   binding 0  X [IC4][H][W] vec4         input (pack4), zero padding of 1 around it
 *   binding 1  V [36][IC4][T] vec4        output: position p = 6*a + b of tile T0 + t of the
 *                                         image, whose tiles are numbered ty*TW + tx,
 *                                         TW = ceil(W/4); T tiles from T0 (a chunk: bw-ops.c
 *                                         splits big maps so that V fits a buffer)
 * Push constants: H, W, IC4, TW, T, T0.
 * Dispatch: x = ceil(T / local_size_x), y = IC4. Tile ty*TW + tx reads rows 4ty-1 .. 4ty+4 and
 * columns 4tx-1 .. 4tx+4 (zero outside the image).
 * B^T (Lavin and Gray, points 0, +-1, +-2):
 *   [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 */
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer XBuf { vec4 x[]; };
layout(std430, binding = 1) writeonly buffer VBuf { vec4 v[]; };

layout(push_constant) uniform Params { int H; int W; int IC4; int TW; int T; int T0; } p;

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

void main()
{
    const int t = int(gl_GlobalInvocationID.x);
    const int i4 = int(gl_WorkGroupID.y);
    if (t >= p.T)
        return;
    const int ty = (p.T0 + t) / p.TW;
    const int y0 = 4 * ty - 1, x0 = 4 * (p.T0 + t - ty * p.TW) - 1;
    const int base = i4 * p.H * p.W;

    vec4 d[6][6];
    [[unroll]] for (int r = 0; r < 6; r++)
    [[unroll]] for (int c = 0; c < 6; c++) {
        const int iy = y0 + r, ix = x0 + c;
        const bool inside = iy >= 0 && iy < p.H && ix >= 0 && ix < p.W;
        d[r][c] = inside ? x[base + iy * p.W + ix] : vec4(0.0);
    }
    /* B^T d: the columns; then (B^T d) B: the rows */
    [[unroll]] for (int c = 0; c < 6; c++) {
        vec4 col[6];
        [[unroll]] for (int r = 0; r < 6; r++)
            col[r] = d[r][c];
        bt(col);
        [[unroll]] for (int r = 0; r < 6; r++)
            d[r][c] = col[r];
    }
    [[unroll]] for (int r = 0; r < 6; r++) {
        bt(d[r]);
        [[unroll]] for (int c = 0; c < 6; c++)
            v[((r * 6 + c) * p.IC4 + i4) * p.T + t] = d[r][c];
    }
}
