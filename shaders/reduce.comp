#version 450
/* reduce.comp: one partial result per workgroup over vec4 arrays, in a fixed order so that
 * the result is the same on every run; the host combines the partials in order, in double.
 *   MODE 0: sum of (s * a - b)^2   (of (s * a)^2 without b)     loss values
 *   MODE 1: sum of a * b                                        dot products (L-BFGS)
 *   MODE 2: max of |a|                                          convergence tests (L-BFGS)
 *   MODE 3: sum of |a|                                          L-BFGS's first step length
 *   binding 0  a        vec4 input
 *   binding 1  b        vec4 input, read when HAS_B (modes 0 and 1)
 *   binding 2  partial  float output, one per workgroup, at index offset + workgroup
 * Push constants: s, n (vec4 count), offset. Each workgroup covers CHUNK consecutive vec4s:
 * dispatch ceil(n / CHUNK) groups.
 */
layout(local_size_x = 64) in;
layout(constant_id = 0) const bool HAS_B = true;
layout(constant_id = 1) const int MODE = 0;
const int CHUNK = 4096;

layout(std430, binding = 0) readonly buffer ABuf { vec4 a[]; };
layout(std430, binding = 1) readonly buffer BBuf { vec4 b[]; };
layout(std430, binding = 2) writeonly buffer PBuf { float partial[]; };

layout(push_constant) uniform Params { float s; int n; int offset; } p;

shared float sums[64];

float combine(float x, float y)
{
    return MODE == 2 ? max(x, y) : x + y;
}

void main()
{
    const int lid = int(gl_LocalInvocationID.x);
    /* linear over a 2-D dispatch (see bw-ops.c); whole groups past the end own no partial */
    const int group = int(gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x);
    const int base = group * CHUNK;
    if (base >= p.n)
        return;
    const int end = min(base + CHUNK, p.n);
    vec4 acc = vec4(0.0);

    for (int i = base + lid; i < end; i += 64) {
        if (MODE == 0) {
            vec4 d = p.s * a[i];
            if (HAS_B)
                d -= b[i];
            acc += d * d;
        } else if (MODE == 1) {
            acc += a[i] * b[i];
        } else if (MODE == 2) {
            acc = max(acc, abs(a[i]));
        } else {
            acc += abs(a[i]);
        }
    }
    sums[lid] = combine(combine(acc.x, acc.y), combine(acc.z, acc.w));
    barrier();
    for (int stride = 32; stride > 0; stride >>= 1) {
        if (lid < stride)
            sums[lid] = combine(sums[lid], sums[lid + stride]);
        barrier();
    }
    if (lid == 0)
        partial[p.offset + group] = sums[0];
}
