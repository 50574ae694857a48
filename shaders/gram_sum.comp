#version 450
/* gram_sum.comp: the second pass of a split Gram (gram.comp): G = sum over s of P[s], added in
 * order s = 0, 1, ..., S-1 so that the result is the same on every run.
 *   binding 0  P [S][n] vec4    partial Grams, n = C4*C4*4
 *   binding 1  G [n] vec4       output, layout of gram.comp
 * Push constants: n, S. Dispatch: x = ceil(n / 64).
 */
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer PBuf { vec4 part[]; };
layout(std430, binding = 1) writeonly buffer GBuf { vec4 g[]; };

layout(push_constant) uniform Params { int n; int S; } p;

/* Linear index over a 2-D dispatch: bw-ops.c folds more than maxComputeWorkGroupCount[0]
 * groups into rows of y, and the extra invocations of the last row fail the bound check. */
void main()
{
    const int i = int(gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x +
                      gl_GlobalInvocationID.x);
    if (i >= p.n)
        return;
    vec4 sum = part[i];
    for (int s = 1; s < p.S; s++)
        sum += part[s * p.n + i];
    g[i] = sum;
}
