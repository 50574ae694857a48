#version 450
/* affine.comp: per-channel y = x * scale + shift on a pack4 tensor.
 * Serves ImageNet normalisation (forward) and its gradient (scale = 1/std, shift = 0).
 *   binding 0  X [C4][N] vec4     input
 *   binding 1  Y [C4][N] vec4     output (may alias nothing; X == Y is not allowed)
 * Push constants: scale and shift of pack 0 (images have one pack: RGB + a zero lane), N = h*w,
 * total = C4 * N. Packs beyond the first get scale 1, shift 0.
 */
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer XBuf { vec4 x[]; };
layout(std430, binding = 1) writeonly buffer YBuf { vec4 y[]; };

layout(push_constant) uniform Params { vec4 scale; vec4 shift; int n; int total; } p;

/* Linear index over a 2-D dispatch: bw-ops.c folds more than maxComputeWorkGroupCount[0]
 * groups into rows of y, and the extra invocations of the last row fail the bound check. */
void main()
{
    const int i = int(gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x +
                      gl_GlobalInvocationID.x);
    if (i >= p.total)
        return;
    y[i] = i < p.n ? x[i] * p.scale + p.shift : x[i];
}
