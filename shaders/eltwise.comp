#version 450
/* eltwise.comp: out = (k * (s * a - b) + c) * (m > 0), elementwise on vec4 arrays.
 * Gives the content-loss gradient k (F - P), the style matrix S = k (s G - A) that the Gram
 * backward multiplies by, and a plain ReLU mask (k = 1, s = 1, no b).
 *   binding 0  a    input
 *   binding 1  b    input, read when HAS_B
 *   binding 2  c    addend, read when HAS_C
 *   binding 3  m    mask, read when HAS_M
 *   binding 4  out  output (may be the same buffer as a or c)
 * Push constants: k, s, n (vec4 count).
 */
layout(local_size_x = 64) in;
layout(constant_id = 0) const bool HAS_B = true;
layout(constant_id = 1) const bool HAS_C = false;
layout(constant_id = 2) const bool HAS_M = false;

layout(std430, binding = 0) readonly buffer ABuf { vec4 a[]; };
layout(std430, binding = 1) readonly buffer BBuf { vec4 b[]; };
layout(std430, binding = 2) readonly buffer CBuf { vec4 c[]; };
layout(std430, binding = 3) readonly buffer MBuf { vec4 m[]; };
layout(std430, binding = 4) buffer OBuf { vec4 o[]; };

layout(push_constant) uniform Params { float k; float s; int n; } p;

/* Linear index over a 2-D dispatch: bw-ops.c folds more than maxComputeWorkGroupCount[0]
 * groups into rows of y, and the extra invocations of the last row fail the bound check. */
void main()
{
    const int i = int(gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x +
                      gl_GlobalInvocationID.x);
    if (i >= p.n)
        return;
    vec4 v = p.s * a[i];
    if (HAS_B)
        v -= b[i];
    v *= p.k;
    if (HAS_C)
        v += c[i];
    if (HAS_M)
        v = mix(vec4(0.0), v, greaterThan(m[i], vec4(0.0)));
    o[i] = v;
}
