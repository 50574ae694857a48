#version 450
/* conv3x3_in3.comp: 3x3 convolution of a map of at most 3 channels (VGG19's conv1_1), stride 1,
 * zero padding 1, with optional bias and ReLU: y = relu(conv(x, Wt) + bias).
 *
 * conv.comp would spend a quarter of its products on the padding lane, and with one input pack
 * its tiles of 128 sums per lane are stored after few products each.  Here each invocation reads
 * its (TY + 2) x (TX + 2) input pixels once and makes every output pack of its TY x TX pixels
 * in turn, the sums of one pack at a time in registers; maps and weights are read through texel
 * views, whose loads cost a third of a storage buffer's on lavapipe (docs/lavapipe-kernels.md).
 *
 *   binding 0  X  [1][H][W] rgba32f texel buffer    input; lane c is channel c, lane 3 unread
 *   binding 1  Wt [OC4][1][9][4] rgba32f texel buf  conv.comp's layout: Wt[(o4*9 + tap)*4 + j]
 *                                                   maps input channel j to the output lanes
 *   binding 2  B  [OC4] rgba32f texel buffer        bias (read only when BIAS)
 *   binding 3  Y  [OC4][H][W]                       output, written as u64 pairs (shaderInt64)
 * Push constants: H, W, O0, O1, T0: this dispatch makes output packs O0 .. O1 - 1 from tile T0,
 *   with Y bound from pack O0 (a map larger than one binding is written a range at a time).
 * Spec constants: 0 local_size_x, 1 BIAS, 2 RELU.
 * Dispatch: x = ceil(tiles / local_size_x) from tile T0, tiles = ceil(W/TX) * ceil(H/TY).
 */
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require

/* 4 x 2 measured level with 4 x 4, 8 x 1 and 8 x 2 at 512 px on lavapipe, and makes less code */
#define TX 4
#define TY 2

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool BIAS = false;
layout(constant_id = 2) const bool RELU = false;

layout(binding = 0, rgba32f) uniform readonly imageBuffer xtex;
layout(binding = 1, rgba32f) uniform readonly imageBuffer wtex;
layout(binding = 2, rgba32f) uniform readonly imageBuffer btex;
/* written as u64 pairs: two-thirds of a vec4 store's time on lavapipe */
layout(std430, binding = 3) writeonly buffer YBuf64 { u64vec2 y64[]; };

layout(push_constant) uniform Params { int H; int W; int O0; int O1; int T0; } p;

void main()
{
    const int tiles_x = (p.W + TX - 1) / TX;
    const int ntiles = tiles_x * ((p.H + TY - 1) / TY);
    const int gid = int(gl_GlobalInvocationID.x) + p.T0;
    if (gid >= ntiles)
        return;
    const int ty = gid / tiles_x;
    const int oy0 = ty * TY, ox0 = (gid - ty * tiles_x) * TX;
    const int last = p.H * p.W - 1;

    /* the (TY + 2) x (TX + 2) input pixels, zero outside the image */
    vec3 v[TY + 2][TX + 2];
    [[unroll]] for (int r = 0; r < TY + 2; r++) {
        const int iy = oy0 + r - 1;
        [[unroll]] for (int c = 0; c < TX + 2; c++) {
            const int ix = ox0 + c - 1;
            const vec3 a = imageLoad(xtex, clamp(iy * p.W + ix, 0, last)).xyz;
            v[r][c] = (iy >= 0 && iy < p.H && ix >= 0 && ix < p.W) ? a : vec3(0.0);
        }
    }

    for (int o4 = p.O0; o4 < p.O1; o4++) {
        vec4 acc[TY][TX];
        [[unroll]] for (int r = 0; r < TY; r++)
        [[unroll]] for (int c = 0; c < TX; c++)
            acc[r][c] = vec4(0.0);
        /* summed as conv.comp sums them, tap by tap with the channels' products added first,
         * so that the features are the same bits whichever kernel made them (the padding
         * lane's product, +0, left out) */
        [[unroll]] for (int tap = 0; tap < 9; tap++) {
            const int ky = tap / 3, kx = tap % 3;
            const int wb = (o4 * 9 + tap) * 4;
            const vec4 w0 = imageLoad(wtex, wb), w1 = imageLoad(wtex, wb + 1);
            const vec4 w2 = imageLoad(wtex, wb + 2);
            [[unroll]] for (int r = 0; r < TY; r++)
            [[unroll]] for (int c = 0; c < TX; c++) {
                const vec3 x = v[r + ky][c + kx];
                acc[r][c] += w0 * x.x + w1 * x.y + w2 * x.z;
            }
        }
        const vec4 b = BIAS ? imageLoad(btex, o4) : vec4(0.0);
        [[unroll]] for (int r = 0; r < TY; r++) {
            const int oy = oy0 + r;
            [[unroll]] for (int c = 0; c < TX; c++) {
                const int ox = ox0 + c;
                vec4 a = acc[r][c] + b;
                if (RELU)
                    a = max(a, vec4(0.0));
                if (oy < p.H && ox < p.W)
                    y64[((o4 - p.O0) * p.H + oy) * p.W + ox] =
                        u64vec2(packUint2x32(floatBitsToUint(a.xy)), packUint2x32(floatBitsToUint(a.zw)));
            }
        }
    }
}
