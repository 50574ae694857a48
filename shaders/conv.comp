#version 450
/* conv.comp: KxK convolution (K = 1 or 3), stride 1, zero padding K/2, on pack4 tensors,
 * with optional bias, residual addend, ReLU and multiplicative mask fused into the store.
 *
 * The same kernel serves three uses, so it is the one to make fast:
 *   forward conv + bias + ReLU                           (K = 3, BIAS, RELU)
 *   input gradient: conv with flipped, transposed weights, plus the loss gradient of a
 *   tap, times the ReLU mask of the layer below            (K = 3, ADD, MASK)
 *   Gram backward dF = S F, a 1x1 conv with weights S     (K = 1, ADD)
 *
 * Layout (all buffers std430 arrays of vec4; pack4 = channels grouped by 4, ncnn style):
 *   binding 0  X  [IC4][H][W]            input, lane c of X[i4] is channel 4*i4 + c
 *   binding 1  Wt [OC4][IC4][K*K][4]     column j of each 4x4 block maps input lane j
 *                                        to the 4 output lanes: Y[o4] += sum_j Wt[..][j] * X[i4][j]
 *   binding 2  B  [OC4]                  bias (read only when BIAS)
 *   binding 3  A  [OC4][H][W]            addend, added before the mask (read only when ADD)
 *   binding 4  M  [OC4][H][W]            mask: output is zeroed where M <= 0 (only when MASK)
 *   binding 5  Y  [OC4][H][W]            output
 * Push constants: H, W, IC4, OC4.
 * Dispatch: x = ceil(W / TX) * H (one row segment of TX pixels each), y = ceil(OC4 / TO).
 * Tile: each invocation computes TO output packs x TX pixels of one row in registers.
 * Result: Y = mask(relu(conv(X, Wt) + B + A)) with each stage present only when enabled.
 */
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int K = 3;
layout(constant_id = 2) const bool BIAS = false;
layout(constant_id = 3) const bool ADD = false;
layout(constant_id = 4) const bool RELU = false;
layout(constant_id = 5) const bool MASK = false;

const int TX = 4;   /* pixels per invocation */
const int TO = 2;   /* output packs per invocation */
const int R = K / 2;

layout(std430, binding = 0) readonly buffer XBuf { vec4 x[]; };
layout(std430, binding = 1) readonly buffer WBuf { vec4 wt[]; };
layout(std430, binding = 2) readonly buffer BBuf { vec4 bias[]; };
layout(std430, binding = 3) readonly buffer ABuf { vec4 addend[]; };
layout(std430, binding = 4) readonly buffer MBuf { vec4 mask[]; };
layout(std430, binding = 5) writeonly buffer YBuf { vec4 y[]; };

layout(push_constant) uniform Params { int H; int W; int IC4; int OC4; } p;

void main()
{
    const int tiles_x = (p.W + TX - 1) / TX;
    const int gid = int(gl_GlobalInvocationID.x);
    if (gid >= tiles_x * p.H)
        return;
    const int oy = gid / tiles_x;
    const int ox0 = (gid - oy * tiles_x) * TX;
    const int o0 = int(gl_GlobalInvocationID.y) * TO;
    const int hw = p.H * p.W;

    vec4 acc[TO][TX];
    [[unroll]] for (int o = 0; o < TO; o++)
        [[unroll]] for (int t = 0; t < TX; t++)
            acc[o][t] = vec4(0.0);

    for (int i4 = 0; i4 < p.IC4; i4++) {
        [[unroll]] for (int ky = 0; ky < K; ky++) {
            const int iy = oy + ky - R;
            if (iy < 0 || iy >= p.H)
                continue;
            /* the TX + K - 1 input pixels this row of taps touches, zero outside the image */
            vec4 row[TX + K - 1];
            const int rbase = i4 * hw + iy * p.W;
            [[unroll]] for (int t = 0; t < TX + K - 1; t++) {
                const int ix = ox0 + t - R;
                row[t] = (ix >= 0 && ix < p.W) ? x[rbase + ix] : vec4(0.0);
            }
            [[unroll]] for (int o = 0; o < TO; o++) {
                const int o4 = min(o0 + o, p.OC4 - 1);
                [[unroll]] for (int kx = 0; kx < K; kx++) {
                    const int wb = ((o4 * p.IC4 + i4) * K * K + ky * K + kx) * 4;
                    const vec4 w0 = wt[wb], w1 = wt[wb + 1], w2 = wt[wb + 2], w3 = wt[wb + 3];
                    [[unroll]] for (int t = 0; t < TX; t++) {
                        const vec4 v = row[t + kx];
                        acc[o][t] += w0 * v.x + w1 * v.y + w2 * v.z + w3 * v.w;
                    }
                }
            }
        }
    }

    [[unroll]] for (int o = 0; o < TO; o++) {
        const int o4 = o0 + o;
        if (o4 >= p.OC4)
            break;
        [[unroll]] for (int t = 0; t < TX; t++) {
            const int ox = ox0 + t;
            if (ox >= p.W)
                break;
            const int idx = o4 * hw + oy * p.W + ox;
            vec4 v = acc[o][t];
            if (BIAS)
                v += bias[o4];
            if (ADD)
                v += addend[idx];
            if (RELU)
                v = max(v, vec4(0.0));
            if (MASK)
                v = mix(vec4(0.0), v, greaterThan(mask[idx], vec4(0.0)));
            y[idx] = v;
        }
    }
}
