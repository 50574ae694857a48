#version 450
/* crop.comp: copies (or adds) a rectangle between two pack4 tensors of the same channel count,
 * for the tiled step (bw-tiled-step.c): crops of the image and of feature maps, a tile's
 * gradient placed in a zeroed map, a tile's input gradient added into the image's.
 *   binding 0  S [C4][SH][SW] vec4   source
 *   binding 1  D [C4][DH][DW] vec4   destination
 * For each pixel (y, x) of the rectangle RY <= y < RY + RH, RX <= x < RX + RW of D:
 *   D[y][x] = S[y + OY][x + OX]    (or +=, when ACCUMULATE)
 * reading zero where (y + OY, x + OX) falls outside S.
 * Push constants: SH, SW, DH, DW, C4, OY, OX, RY, RX, RH, RW, and SSHIFT, DSHIFT: the vec4
 * index at which each binding starts in its tensor (a one-pack image may be larger than one
 * binding: bw-ops.c binds the rows the rectangle touches).
 * Dispatch: one invocation per vec4 of the rectangle, linear over a 2-D dispatch (bw-ops.c).
 */
layout(local_size_x = 64) in;
layout(constant_id = 0) const bool ACCUMULATE = false;

layout(std430, binding = 0) readonly buffer SBuf { vec4 s[]; };
layout(std430, binding = 1) buffer DBuf { vec4 d[]; };

layout(push_constant) uniform Params {
    int SH; int SW; int DH; int DW; int C4; int OY; int OX; int RY; int RX; int RH; int RW;
    int SSHIFT; int DSHIFT;
} p;

void main()
{
    const int i = int(gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x +
                      gl_GlobalInvocationID.x);
    const int area = p.RH * p.RW;
    if (i >= p.C4 * area)
        return;
    const int c = i / area;
    const int r = i - c * area;
    const int ry = r / p.RW;
    const int y = p.RY + ry, x = p.RX + (r - ry * p.RW);
    const int sy = y + p.OY, sx = x + p.OX;
    vec4 v = vec4(0.0);
    if (sy >= 0 && sy < p.SH && sx >= 0 && sx < p.SW)
        v = s[(c * p.SH + sy) * p.SW + sx - p.SSHIFT];
    const int di = (c * p.DH + y) * p.DW + x - p.DSHIFT;
    if (ACCUMULATE)
        d[di] += v;
    else
        d[di] = v;
}
