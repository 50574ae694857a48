#version 450
/* tv.comp: total variation, tv = sum over channels and pixels of
 *   (x[y][x+1] - x[y][x])^2 + (x[y+1][x] - x[y][x])^2,
 * as jcjohnson/neural-style's TVLoss. Adds w * d tv / dx to the gradient and writes one
 * partial sum of tv per workgroup (the host adds them in order).
 *   binding 0  X [H][W] vec4          the image (one pack: up to four channels)
 *   binding 1  G [H][W] vec4          gradient, updated in place: G += w * dtv/dX
 *   binding 2  partial  float         one per workgroup, at offset + workgroup
 * Push constants: H, W, total, offset, weight w, and the band of rows this dispatch covers:
 * rows Y0 .. Y0 + total / W - 1 of a one-pack image (bw-ops.c splits an image larger than one
 * binding into bands, binding each from an aligned point: XO and GO are the vec4 index of pixel
 * (Y0, 0) in the bound X and G).
 */
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer XBuf { vec4 x[]; };
layout(std430, binding = 1) buffer GBuf { vec4 g[]; };
layout(std430, binding = 2) writeonly buffer PBuf { float partial[]; };

layout(push_constant) uniform Params {
    int H; int W; int total; int offset; float weight; int Y0; int XO; int GO;
} p;

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
        const int r = i / p.W;
        const int yy = p.Y0 + r, xx = i - r * p.W;
        const int xi = p.XO + i;
        const vec4 v = x[xi];
        vec4 d = vec4(0.0);   /* d tv / d v */
        if (xx + 1 < p.W) {
            const vec4 e = x[xi + 1] - v;
            d -= 2.0 * e;
            here += dot(e, e);
        }
        if (xx > 0)
            d += 2.0 * (v - x[xi - 1]);
        if (yy + 1 < p.H) {
            const vec4 e = x[xi + p.W] - v;
            d -= 2.0 * e;
            here += dot(e, e);
        }
        if (yy > 0)
            d += 2.0 * (v - x[xi - p.W]);
        g[p.GO + i] += p.weight * d;
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
