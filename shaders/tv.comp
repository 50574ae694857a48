#version 450
/* tv.comp: total variation, tv = sum over channels and pixels of
 *   (x[y][x+1] - x[y][x])^2 + (x[y+1][x] - x[y][x])^2,
 * as jcjohnson/neural-style's TVLoss. Adds w * d tv / dx to the gradient and writes one
 * partial sum of tv per workgroup (the host adds them in order).
 *   binding 0  X [C4][H][W] vec4      the image
 *   binding 1  G [C4][H][W] vec4      gradient, updated in place: G += w * dtv/dX
 *   binding 2  partial  float         one per workgroup, at offset + workgroup
 * Push constants: H, W, total (= C4*H*W), offset, weight w.
 */
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer XBuf { vec4 x[]; };
layout(std430, binding = 1) buffer GBuf { vec4 g[]; };
layout(std430, binding = 2) writeonly buffer PBuf { float partial[]; };

layout(push_constant) uniform Params { int H; int W; int total; int offset; float weight; } p;

shared float sums[64];

/* Linear index over a 2-D dispatch: bw-ops.c folds more than maxComputeWorkGroupCount[0]
 * groups into rows of y, and the extra invocations of the last row fail the bound check. */
void main()
{
    const int i = int(gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x +
                      gl_GlobalInvocationID.x);
    const int lid = int(gl_LocalInvocationID.x);
    const int group = int(gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x);
    float here = 0.0;

    /* whole groups past the end (the last row of a 2-D dispatch) own no partial */
    if (group * 64 >= p.total)
        return;

    if (i < p.total) {
        const int hw = p.H * p.W;
        const int r = i % hw;
        const int yy = r / p.W, xx = r - yy * p.W;
        const vec4 v = x[i];
        vec4 d = vec4(0.0);   /* d tv / d v */
        if (xx + 1 < p.W) {
            const vec4 e = x[i + 1] - v;
            d -= 2.0 * e;
            here += dot(e, e);
        }
        if (xx > 0)
            d += 2.0 * (v - x[i - 1]);
        if (yy + 1 < p.H) {
            const vec4 e = x[i + p.W] - v;
            d -= 2.0 * e;
            here += dot(e, e);
        }
        if (yy > 0)
            d += 2.0 * (v - x[i - p.W]);
        g[i] += p.weight * d;
    }
    sums[lid] = here;
    barrier();
    for (int stride = 32; stride > 0; stride >>= 1) {
        if (lid < stride)
            sums[lid] += sums[lid + stride];
        barrier();
    }
    if (lid == 0)
        partial[p.offset + group] = sums[0];
}
