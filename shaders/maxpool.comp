#version 450
/* maxpool.comp: 2x2 max-pool, stride 2, odd sizes floored as PyTorch does.
 *   binding 0  X [C4][H][W] vec4      input
 *   binding 1  Y [C4][H/2][W/2] vec4  output
 * Push constants: H, W (input), C4.
 */
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer XBuf { vec4 x[]; };
layout(std430, binding = 1) writeonly buffer YBuf { vec4 y[]; };

layout(push_constant) uniform Params { int H; int W; int C4; } p;

/* Linear index over a 2-D dispatch: bw-ops.c folds more than maxComputeWorkGroupCount[0]
 * groups into rows of y, and the extra invocations of the last row fail the bound check. */
void main()
{
    const int OH = p.H / 2, OW = p.W / 2;
    const int i = int(gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x +
                      gl_GlobalInvocationID.x);
    if (i >= p.C4 * OH * OW)
        return;
    const int c = i / (OH * OW);
    const int r = i - c * OH * OW;
    const int oy = r / OW, ox = r - oy * OW;
    const int b = c * p.H * p.W + 2 * oy * p.W + 2 * ox;
    y[i] = max(max(x[b], x[b + 1]), max(x[b + p.W], x[b + p.W + 1]));
}
