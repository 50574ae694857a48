#version 450
/* maxpool_bwd.comp: gradient of a 2x2 stride-2 max-pool that follows a ReLU, fused with the
 * loss gradient of that ReLU's output and the ReLU mask:
 *   dX = (route(dY) + A) * (X > 0)
 * route() sends each pooled gradient to the first maximum of its window in row-major order
 * (PyTorch's tie rule: a later element wins only when strictly greater, or NaN). Pixels in the
 * floored-off last row/column get no routed gradient.
 *   binding 0  dY [C4][H/2][W/2] vec4   gradient of the pooled output
 *   binding 1  X  [C4][H][W] vec4       the pool's input (post-ReLU activations)
 *   binding 2  A  [C4][H][W] vec4       addend, read when HAS_ADD
 *   binding 3  dX [C4][H][W] vec4       output
 * Push constants: H, W (input), C4, and C0: the dispatch takes packs C0 .. C0 + C4 - 1, with dX
 * (dY, X and A too, where they are storage buffers) bound from pack C0, so that a map larger
 * than one binding is taken a range of packs at a time (bw-ops.c).
 * Built again with TEXEL = 1 (maxpool_bwd_texel): dY, X and A bound as storage texel buffers,
 * whose views start at pack 0.
 */
layout(local_size_x = 64) in;
layout(constant_id = 0) const bool HAS_ADD = false;

#ifndef TEXEL
#define TEXEL 0
#endif
#if TEXEL
/* maxpool_bwd_texel: dY, X and A read through rgba32f texel views (bw_device_has_texel_loads()) */
layout(binding = 0, rgba32f) uniform readonly imageBuffer dytex;
layout(binding = 1, rgba32f) uniform readonly imageBuffer xtex;
layout(binding = 2, rgba32f) uniform readonly imageBuffer atex;
#define DY(i) imageLoad(dytex, p.C0 * (p.H / 2) * (p.W / 2) + (i))
#define X(i) imageLoad(xtex, p.C0 * p.H * p.W + (i))
#define A(i) imageLoad(atex, p.C0 * p.H * p.W + (i))
#else
layout(std430, binding = 0) readonly buffer DYBuf { vec4 dy[]; };
layout(std430, binding = 1) readonly buffer XBuf { vec4 x[]; };
layout(std430, binding = 2) readonly buffer ABuf { vec4 addend[]; };
#define DY(i) dy[(i)]
#define X(i) x[(i)]
#define A(i) addend[(i)]
#endif
layout(std430, binding = 3) writeonly buffer DXBuf { vec4 dx[]; };

layout(push_constant) uniform Params { int H; int W; int C4; int C0; } p;

/* Linear index over a 2-D dispatch: bw-ops.c folds more than maxComputeWorkGroupCount[0]
 * groups into rows of y, and the extra invocations of the last row fail the bound check. */
void main()
{
    const int i = int(gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x +
                      gl_GlobalInvocationID.x);
    if (i >= p.C4 * p.H * p.W)
        return;
    const int OH = p.H / 2, OW = p.W / 2;
    const int c = i / (p.H * p.W);
    const int r = i - c * p.H * p.W;
    const int y = r / p.W, x0 = r - y * p.W;
    const int oy = y / 2, ox = x0 / 2;
    const vec4 self_v = X(i);
    vec4 g = vec4(0.0);

    if (oy < OH && ox < OW) {
        const int b = c * p.H * p.W + 2 * oy * p.W + 2 * ox;
        const int pos = (y - 2 * oy) * 2 + (x0 - 2 * ox);   /* our place in the window, 0..3 */
        const vec4 v[4] = vec4[4](X(b), X(b + 1), X(b + p.W), X(b + p.W + 1));
        /* per lane: index of the first maximum */
        vec4 best = v[0];
        ivec4 arg = ivec4(0);
        for (int k = 1; k < 4; k++) {
            const bvec4 take = bvec4(uvec4(greaterThan(v[k], best)) | uvec4(isnan(v[k])));
            best = mix(best, v[k], take);
            arg = mix(arg, ivec4(k), take);
        }
        g = mix(vec4(0.0), DY(c * OH * OW + oy * OW + ox), equal(arg, ivec4(pos)));
    }
    if (HAS_ADD)
        g += A(i);
    dx[i] = mix(vec4(0.0), g, greaterThan(self_v, vec4(0.0)));
}
