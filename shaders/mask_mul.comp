#version 450
/* mask_mul.comp: out = k * a * m^P + c, a feature map times a per-pixel mask (region masks:
 * guided Gram matrices, bw-losses.h), broadcast over channels.
 *   binding 0  a    input, pack4 [C4][N] vec4, N = h*w
 *   binding 1  m    the mask, [N] float (one value per pixel)
 *   binding 2  c    addend, [C4][N] vec4, read when HAS_C (may be the same buffer as out)
 *   binding 3  out  output, [C4][N] vec4
 * Push constants: k, N (pixels), n (vec4 count, C4 * N).
 * Spec constants: 0 HAS_C, 1 SQUARE (P = 2: the Gram backward's m * (S (F m)) = m^2 S F).
 */
layout(local_size_x = 64) in;
layout(constant_id = 0) const bool HAS_C = false;
layout(constant_id = 1) const bool SQUARE = false;

layout(std430, binding = 0) readonly buffer ABuf { vec4 a[]; };
layout(std430, binding = 1) readonly buffer MBuf { float m[]; };
layout(std430, binding = 2) readonly buffer CBuf { vec4 c[]; };
layout(std430, binding = 3) buffer OBuf { vec4 o[]; };

layout(push_constant) uniform Params { float k; int N; int n; } p;

void main()
{
    const int i = int(gl_GlobalInvocationID.x);
    if (i >= p.n)
        return;
    float w = m[i % p.N];
    if (SQUARE)
        w *= w;
    vec4 v = (p.k * w) * a[i];
    if (HAS_C)
        v += c[i];
    o[i] = v;
}
