#version 450
/* adam.comp: one step of Adam with PyTorch's update rule (torch.optim.Adam, no weight decay,
 * no amsgrad):
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   x -= step_size * m / (sqrt(v) / bc2_sqrt + eps),  step_size = lr / (1 - b1^t),
 *   bc2_sqrt = sqrt(1 - b2^t)   (both computed on the host in double, as PyTorch does)
 *   binding 0  x  vec4 parameters (updated)
 *   binding 1  g  vec4 gradient
 *   binding 2  m  vec4 first moment (updated)
 *   binding 3  v  vec4 second moment (updated)
 * Push constants: b1, b2, step_size, bc2_sqrt, eps, n (vec4 count).
 */
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer XBuf { vec4 x[]; };
layout(std430, binding = 1) readonly buffer GBuf { vec4 g[]; };
layout(std430, binding = 2) buffer MBuf { vec4 m[]; };
layout(std430, binding = 3) buffer VBuf { vec4 v[]; };

layout(push_constant) uniform Params {
    float b1; float b2; float step_size; float bc2_sqrt; float eps; int n;
} p;

/* Linear index over a 2-D dispatch: bw-ops.c folds more than maxComputeWorkGroupCount[0]
 * groups into rows of y, and the extra invocations of the last row fail the bound check. */
void main()
{
    const int i = int(gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x +
                      gl_GlobalInvocationID.x);
    if (i >= p.n)
        return;
    const vec4 gi = g[i];
    const vec4 mi = m[i] * p.b1 + gi * (1.0 - p.b1);
    const vec4 vi = v[i] * p.b2 + gi * gi * (1.0 - p.b2);
    m[i] = mi;
    v[i] = vi;
    x[i] -= p.step_size * (mi / (sqrt(vi) / p.bc2_sqrt + p.eps));
}
