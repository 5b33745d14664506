// Generated from src/page_rules.rs (LESIONLAB_WRITE_RULES=1 cargo test --lib page_rules): do not edit.
// The rules the crate and the page share, defined once in Rust.

/** Lesion where the probability is above this. */
export const THRESHOLD = 0.5;

/** A mask covering more of a photo that does not look like dermoscopy is most likely the skin itself: the page offers the box. */
export const LARGE_MASK_SHARE = 0.25;

/** The mode of a call that names none: U-Net++'s deepest head alone, which scores best; other models have one head. */
export const DEFAULT_MODE = "head4";

/** The modes a call can name: U-Net++'s deep-supervision head N alone (`headN`, running only the nodes it needs) or the mean of the four heads' logits (`mean`, the report's); other models have one head, which every mode runs. */
export const MODES = ["head1","head2","head3","head4","mean"];

/** Earlier spellings of the modes, still accepted: each maps to its mode's id. */
export const MODE_ALIASES = {"accurate":"mean","fast":"head2","fast1":"head1","fast2":"head2","fast3":"head3","fast4":"head4"};

/** The heatmap methods `explain` takes: the mean activation, the report's CAM, Grad-CAM. */
export const METHODS = ["activation","cam","gradcam"];

/** Input sides a model runs or is fine-tuned at. */
export const INPUT_SIZE = {"max":512,"min":32};

/** The largest photo, in pixels. */
export const MAX_PIXELS = 50000000;

/** The largest file read as an image. */
export const MAX_IMAGE_BYTES = 200000000;

/** The models: id, display name, what the input side must be a multiple of, and the quick-start file shipped beside the whole weights (`null` for none). */
export const MODELS = [{"id":"unet","name":"U-Net","quickStart":null,"sizeMultiple":16},{"id":"unetpp","name":"U-Net++","quickStart":{"file":"unetpp.fast2.safetensors","level":2},"sizeMultiple":16},{"id":"pspnet","name":"PSPNet","quickStart":null,"sizeMultiple":1}];

/** The JS API's fine-tuning defaults. */
export const FINE_TUNE_DEFAULTS = {"augment":true,"batchSize":4,"epochs":1,"lr":0.001,"seed":0,"size":256,"valFraction":0.2};

/** What the page's fine-tuning form starts with. */
export const FINE_TUNE_FORM = {"augment":true,"batchSize":4,"epochs":3,"lr":0.0003,"seed":0,"size":128,"valFraction":0.2};

/** Inclusive [min, max] of each numeric fine-tuning setting. */
export const FINE_TUNE_LIMITS = {"batchSize":[1.0,64.0],"epochs":[1.0,500.0],"lr":[1e-6,0.5],"size":[32.0,512.0],"valFraction":[0.0,0.9]};

/** How many feature maps the layer explorer shows when not told. */
export const FEATURE_MAPS = 16;

/** A PNG named NAME + one of these is the mask of photo NAME. */
export const MASK_SUFFIXES = ["_segmentation","_mask"];

/** An ISIC id is a file stem matching this (any case). */
export const ISIC_ID = "^ISIC_([0-9]{7})$";

/** Mask overlay colours (RGB) and outline band width. */
export const OVERLAY = {"bandDivisor":300,"fill":[0,200,255],"outlineDark":[0,0,0],"outlineLight":[255,212,0],"truth":[[255,255,255],[0,0,0]]};

/** The Turbo colour map, 256 RGB entries from 0 to 1. */
export const TURBO = [[35,23,27],[39,26,40],[43,28,52],[47,30,63],[51,32,74],[54,35,85],[57,37,95],[59,40,105],[62,42,114],[64,44,123],[66,47,132],[68,49,140],[69,52,148],[71,55,155],[72,57,162],[73,60,169],[73,62,175],[74,65,181],[74,68,187],[75,70,193],[75,73,198],[75,76,203],[75,79,207],[74,81,211],[74,84,215],[74,87,219],[73,89,223],[73,92,226],[72,95,229],[71,98,232],[70,101,234],[69,103,237],[68,106,239],[67,109,240],[66,112,242],[65,114,244],[64,117,245],[63,120,246],[62,123,247],[61,125,248],[59,128,248],[58,131,249],[57,134,249],[56,136,249],[55,139,249],[53,142,249],[52,144,248],[51,147,248],[50,150,247],[49,152,246],[48,155,246],[47,158,245],[46,160,244],[45,163,242],[44,165,241],[43,168,240],[42,170,238],[42,173,237],[41,175,235],[40,178,234],[40,180,232],[39,182,230],[39,185,228],[38,187,226],[38,189,224],[37,192,222],[37,194,220],[37,196,218],[37,198,215],[37,200,213],[37,202,211],[37,205,209],[37,207,206],[38,209,204],[38,210,201],[38,212,199],[39,214,196],[39,216,194],[40,218,191],[41,220,189],[42,221,186],[43,223,184],[44,225,181],[45,226,178],[46,228,176],[47,229,173],[48,231,171],[49,232,168],[51,234,166],[52,235,163],[54,236,160],[55,238,158],[57,239,155],[59,240,153],[61,241,150],[63,242,148],[65,243,145],[67,244,143],[69,245,140],[71,246,138],[73,247,135],[75,248,133],[78,249,131],[80,249,128],[82,250,126],[85,250,124],[87,251,121],[90,251,119],[93,252,117],[95,252,115],[98,253,113],[101,253,110],[104,253,108],[106,253,106],[109,254,104],[112,254,102],[115,254,100],[118,254,98],[121,254,96],[124,253,94],[127,253,93],[130,253,91],[133,253,89],[136,252,87],[139,252,86],[142,252,84],[145,251,82],[149,251,81],[152,250,79],[155,249,78],[158,249,76],[161,248,75],[164,247,73],[167,246,72],[170,246,70],[173,245,69],[176,244,68],[179,243,66],[182,242,65],[185,240,64],[188,239,63],[191,238,62],[194,237,60],[197,235,59],[200,234,58],[203,233,57],[205,231,56],[208,230,55],[211,228,54],[213,227,53],[216,225,52],[219,223,52],[221,222,51],[223,220,50],[226,218,49],[228,216,48],[230,214,48],[233,212,47],[235,210,46],[237,208,45],[239,206,45],[241,204,44],[243,202,43],[244,200,43],[246,198,42],[248,196,42],[249,193,41],[251,191,40],[252,189,40],[253,186,39],[255,184,39],[255,181,38],[255,179,38],[255,177,37],[255,174,37],[255,172,36],[255,169,36],[255,166,35],[255,164,35],[255,161,34],[255,159,34],[255,156,34],[255,153,33],[255,151,33],[255,148,32],[255,145,32],[255,142,31],[255,140,31],[255,137,30],[255,134,30],[255,131,30],[255,129,29],[255,126,29],[255,123,28],[255,120,28],[255,117,27],[255,115,27],[255,112,26],[254,109,26],[252,106,26],[251,104,25],[249,101,25],[248,98,24],[246,95,24],[244,92,23],[243,90,23],[241,87,22],[239,84,22],[237,82,21],[235,79,20],[233,76,20],[230,74,19],[228,71,19],[226,69,18],[224,66,18],[221,64,17],[219,61,16],[216,59,16],[214,56,15],[211,54,15],[209,52,14],[206,49,13],[203,47,13],[201,45,12],[198,43,11],[196,41,11],[193,39,10],[190,37,10],[188,35,9],[185,33,8],[183,31,8],[180,29,7],[177,28,6],[175,26,6],[172,24,5],[170,23,4],[168,22,4],[165,20,3],[163,19,2],[161,18,2],[159,17,1],[157,16,0],[155,15,0],[154,14,0],[152,14,0],[150,13,0],[149,12,0],[148,12,0],[147,12,0],[146,12,0],[145,11,0],[145,12,0],[144,12,0],[144,12,0],[144,12,0],[144,13,0]];

/** The kinds an error's `kind` can be. */
export const ERROR_KINDS = ["unreadable-image","too-large","unsupported-format","bad-mask","weights","bad-argument","device","non-finite-loss","cancelled","internal","io"];
