#version 450
/* gram.comp: G = F F^T for a pack4 feature map F of c x (h*w), unnormalised.
 *   binding 0  F [C4][N] vec4           input, N = h*w
 *   binding 1  G [C4][C4][4] vec4        output: block (i4, j4) as 4 columns; column jj holds
 *                                       G[4*i4 + 0..3][4*j4 + jj]. This is the weight layout of
 *                                       conv.comp with K = 1, so S = k (G - A) feeds the Gram
 *                                       backward (dF = S F) as a 1x1 convolution.
 * Push constants: C4, N. Dispatch: x = ceil(C4*C4 / 64). Each invocation sums one 4x4 block over
 * all N pixels in order (deterministic), with 4 partial accumulators to shorten dependency chains.
 */
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer FBuf { vec4 f[]; };
layout(std430, binding = 1) writeonly buffer GBuf { vec4 g[]; };

layout(push_constant) uniform Params { int C4; int N; } p;

void main()
{
    const int blk = int(gl_GlobalInvocationID.x);
    if (blk >= p.C4 * p.C4)
        return;
    const int i4 = blk / p.C4;
    const int j4 = blk - i4 * p.C4;
    const int ib = i4 * p.N, jb = j4 * p.N;
    vec4 c0 = vec4(0.0), c1 = vec4(0.0), c2 = vec4(0.0), c3 = vec4(0.0);

    for (int n = 0; n < p.N; n++) {
        const vec4 a = f[ib + n];
        const vec4 b = f[jb + n];
        c0 += a * b.x;
        c1 += a * b.y;
        c2 += a * b.z;
        c3 += a * b.w;
    }
    g[blk * 4 + 0] = c0;
    g[blk * 4 + 1] = c1;
    g[blk * 4 + 2] = c2;
    g[blk * 4 + 3] = c3;
}
